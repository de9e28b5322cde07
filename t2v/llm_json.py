"""Asking a chat LLM for JSON: pull the JSON out of its reply, validate it, and re-prompt with the error.

LLMs wrap JSON in prose or code fences and sometimes get the schema wrong. Every step that needs
structured output (question generation, story planning) goes through :func:`ask_json`, which
tolerates the wrapping, hands the reply to a validator, and on a bad reply shows the model its own
answer together with the validator's message, a few times, before giving up with
:class:`LLMOutputError`.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from .llm import ChatBackend, Message

logger = logging.getLogger(__name__)

T = TypeVar("T")
_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.DOTALL)


class LLMOutputError(RuntimeError):
    """The LLM kept answering with output that does not fit the requested JSON schema."""


def extract_json(reply: str) -> Any:
    """The JSON value in an LLM reply: the whole reply, a fenced code block, or the first ``{...}``/``[...]``.

    Raises ValueError saying what was wrong (the message is shown to the model on a retry).
    """
    if not isinstance(reply, str) or not reply.strip():
        raise ValueError("the reply was empty; expected a JSON object")
    text = reply.strip()
    candidates = [text] + [block.strip() for block in _FENCE.findall(text)]
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except ValueError:
            continue
    decoder = json.JSONDecoder()
    starts = [i for i in (text.find("{"), text.find("[")) if i >= 0]
    for start in sorted(starts):
        try:
            value, _ = decoder.raw_decode(text, start)
            return value
        except ValueError as err:
            last = err
    if not starts:
        raise ValueError("the reply contains no JSON object")
    raise ValueError(f"the reply is not valid JSON: {last}")


def ask_json(backend: ChatBackend, messages: Sequence[Message], validate: Callable[[Any], T], *,
             max_retries: int = 2, max_tokens: int = 1024, what: str = "reply") -> T:
    """Ask ``backend`` and return ``validate(json_of_reply)``; on a ValueError from parsing or validation,
    re-prompt with the error, up to ``max_retries`` more times, then raise :class:`LLMOutputError`."""
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise ValueError(f"max_retries must be a non-negative integer, got {max_retries!r}")
    conversation = [dict(m) for m in messages]
    attempts = max_retries + 1
    problem = ""
    for attempt in range(attempts):
        reply = backend.chat(conversation, temperature=0.0, max_tokens=max_tokens)
        try:
            return validate(extract_json(reply))
        except ValueError as err:
            problem = str(err)
        logger.warning("%s: invalid LLM output (attempt %d/%d): %s", what, attempt + 1, attempts, problem)
        conversation += [
            {"role": "assistant", "content": reply},
            {"role": "user", "content": f"That answer was not valid: {problem}\n"
                                        "Reply again with only the corrected JSON, nothing else."},
        ]
    raise LLMOutputError(f"{what}: the LLM gave no valid JSON in {attempts} attempt(s); last problem: {problem}")
