"""A :class:`t2v.story.Script` as the two tables the Story tab shows and lets the user edit, and back.

Scenes: one row each (prompt, entities, background, camera, frames, seed, and the self-check's score and
tries, which are results and not read back). Entities: name and description. A scene whose prompt cell is
emptied is dropped. What the tables do not show (time-varying prompt keys) is kept from the planned script
while the scene's prompt is unchanged.
"""

from __future__ import annotations

import math
from typing import Any

from t2v.story import Entity, Scene, Script

SCENE_COLUMNS = ["scene", "prompt", "entities", "background", "camera", "frames", "seed", "score", "tries"]
# Frames and seed are text columns: a number column shows an empty cell as 0, and "empty" means the default.
SCENE_TYPES = ["number", "str", "str", "str", "str", "str", "str", "str", "str"]
SCENE_READ_ONLY = [0, 7, 8]  # the index and the self-check results
ENTITY_COLUMNS = ["name", "description"]


def _cell(value: Any) -> str | None:
    """A table cell as text, None when empty (the table sends '' or NaN for an empty number)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def _whole(value: Any, name: str) -> int | None:
    text = _cell(value)
    if text is None:
        return None
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"{name} must be a whole number or empty, got {text!r}") from None
    if not number.is_integer():
        raise ValueError(f"{name} must be a whole number or empty, got {text!r}")
    return int(number)


def script_rows(script: Script) -> tuple[list[list[Any]], list[list[Any]]]:
    """The scenes table and the entities table of ``script``."""
    scenes = []
    for i, scene in enumerate(script.scenes):
        tries = ", ".join(f"{t['seed']}: {t['score']:.2f}" for t in scene.tries if t.get("score") is not None)
        scenes.append([i + 1, scene.prompt, ", ".join(scene.entities), scene.background or "", scene.camera or "",
                       "" if scene.frames is None else str(scene.frames), "" if scene.seed is None else str(scene.seed),
                       "" if scene.score is None else f"{scene.score:.2f}", tries])
    entities = [[e.name, e.description] for e in script.entities]
    return scenes, entities


def script_from_rows(scene_rows: list[list[Any]], entity_rows: list[list[Any]], *, story: str | None, seed: int,
                     planned: Script | None = None) -> Script:
    """The script the user sees in the tables (errors name the scene row and the column)."""
    entities = []
    for i, row in enumerate(entity_rows or []):
        name, description = (_cell(v) for v in (list(row) + [None, None])[:2])
        if name is None and description is None:
            continue
        if name is None or description is None:
            raise ValueError(f"entity row {i + 1}: give both a name and a description (or clear both)")
        entities.append(Entity(name=name, description=description))  # reference images are not taken here
    scenes = []
    for i, row in enumerate(scene_rows or []):
        cells = dict(zip(SCENE_COLUMNS, list(row) + [None] * len(SCENE_COLUMNS), strict=False))
        prompt = _cell(cells["prompt"])
        if prompt is None:
            continue
        before = planned.scenes[i] if planned is not None and i < len(planned.scenes) else None
        keys = dict(before.prompt_keys) if before is not None and before.prompt == prompt else {}
        names = [n.strip() for n in (_cell(cells["entities"]) or "").split(",") if n.strip()]
        scenes.append(Scene(prompt=prompt, entities=names, background=_cell(cells["background"]),
                            camera=_cell(cells["camera"]), frames=_whole(cells["frames"], f"scene {i + 1} frames"),
                            seed=_whole(cells["seed"], f"scene {i + 1} seed"), prompt_keys=keys))
    if not scenes:
        raise ValueError("the script has no scene: plan a story, or give at least one scene a prompt")
    return Script(scenes=scenes, entities=entities, story=story, seed=seed,
                  planner=planned.planner if planned is not None else None)
