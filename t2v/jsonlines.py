"""Reading JSON-lines input files, one object a line (the evaluator's and the batch command's)."""

from __future__ import annotations

import json
from typing import Any


def parse_json_object(raw: str) -> dict[str, Any]:
    """One line as a JSON object; a ``ValueError`` with a one-line reason when it is not one."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as err:
        raise ValueError(f"invalid JSON: {err.msg}") from None
    if not isinstance(data, dict):
        raise ValueError(f"each line must be a JSON object, got {type(data).__name__}")
    return data
