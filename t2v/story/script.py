"""The multi-scene script: what a planner writes, a user may edit, and the multi-scene pipeline renders.

A :class:`Script` is VideoDrafter's script: the recurring foreground :class:`Entity` objects, each with
one detailed description that every scene prompt repeats word for word (so the model sees the same
words for the same thing in every scene), and a list of :class:`Scene` objects with the event prompt,
background and camera. It round-trips through JSON so that a user can plan, edit the file by hand,
and render it; loading is strict (unknown keys, wrong types, undeclared entities are errors naming the
field, e.g. ``scenes[2].frames must be >= 1``) so a typo in an edited file is caught before a render.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

__all__ = ["Entity", "Scene", "Script"]

SCRIPT_VERSION = 1
MAX_SEED = 2**63 - 1


# -- field checks (each raises ValueError naming the field by its path) ---------------------------

def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_text(path: str, value: Any, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    kind = "a non-empty string or null" if optional else "a non-empty string"
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{path} must be {kind}, got {value!r}")


def _check_seed(path: str, value: Any) -> None:
    if value is None:
        return
    if not _is_int(value) or not 0 <= value <= MAX_SEED:
        raise ValueError(f"{path} must be an integer in [0, 2**63 - 1] or null, got {value!r}")


def _check_score(path: str, value: Any, *, optional: bool = True) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{path} must be a finite number{' or null' if optional else ''}, got {value!r}")


def _check_keys(path: str, data: Any, allowed: tuple[str, ...], required: tuple[str, ...] = ()) -> None:
    """``data`` is a JSON object with no keys outside ``allowed`` (a typo in an edited file) and all ``required``."""
    if not isinstance(data, dict):
        raise ValueError(f"{path} must be a JSON object, got {type(data).__name__}")
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ValueError(f"{path} has unknown key(s) {unknown}; allowed: {list(allowed)}")
    missing = [key for key in required if key not in data]
    if missing:
        raise ValueError(f"{path} is missing {missing[0]!r}")


def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


# -- the dataclasses ------------------------------------------------------------------------------

@dataclass
class Entity:
    """A recurring foreground thing: ``description`` (e.g. "a big red ball") is repeated verbatim in every
    scene prompt that shows it; ``reference_image`` optionally points at an image of it."""

    name: str
    description: str
    reference_image: str | None = None

    def validate(self, path: str = "entity") -> None:
        _check_text(f"{path}.name", self.name)
        _check_text(f"{path}.description", self.description)
        _check_text(f"{path}.reference_image", self.reference_image, optional=True)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "reference_image": self.reference_image}

    @classmethod
    def from_dict(cls, data: Any, path: str = "entity") -> Entity:
        _check_keys(path, data, _field_names(cls), ("name", "description"))
        entity = cls(**data)
        entity.validate(path)
        return entity


@dataclass
class Scene:
    """One shot of the video.

    ``prompt`` is the full text the model gets (entity descriptions included); ``entities`` names the
    foreground entities it shows; ``frames`` None means the model's native length; ``prompt_keys`` maps a
    frame index to a prompt from that frame on (time-varying prompts); ``seed`` None lets the pipeline
    derive one from the script's seed. ``score`` and ``tries`` are written back by a pipeline that
    generates several candidates ({"seed": ..., "score": ...} each) and keeps the best.
    """

    prompt: str
    entities: list[str] = field(default_factory=list)
    background: str | None = None
    camera: str | None = None
    frames: int | None = None
    prompt_keys: dict[int, str] = field(default_factory=dict)
    seed: int | None = None
    score: float | None = None
    tries: list[dict[str, Any]] = field(default_factory=list)

    def validate(self, path: str = "scene", declared: set[str] | None = None) -> None:
        _check_text(f"{path}.prompt", self.prompt)
        if not isinstance(self.entities, list):
            raise ValueError(f"{path}.entities must be a list of entity names, got {self.entities!r}")
        for i, name in enumerate(self.entities):
            _check_text(f"{path}.entities[{i}]", name)
            if declared is not None and name not in declared:
                raise ValueError(f"{path}.entities[{i}] {name!r} is not a declared entity")
        if len(set(self.entities)) != len(self.entities):
            raise ValueError(f"{path}.entities names an entity twice: {self.entities}")
        _check_text(f"{path}.background", self.background, optional=True)
        _check_text(f"{path}.camera", self.camera, optional=True)
        if self.frames is not None and (not _is_int(self.frames) or self.frames < 1):
            raise ValueError(f"{path}.frames must be >= 1 (an integer) or null, got {self.frames!r}")
        if not isinstance(self.prompt_keys, dict):
            raise ValueError(f"{path}.prompt_keys must be a mapping of frame index to prompt")
        for index, text in self.prompt_keys.items():
            if not _is_int(index) or index < 0:
                raise ValueError(f"{path}.prompt_keys key {index!r} must be a frame index >= 0")
            if self.frames is not None and index >= self.frames:
                raise ValueError(f"{path}.prompt_keys[{index}] is out of range [0, {self.frames})")
            _check_text(f"{path}.prompt_keys[{index}]", text)
        _check_seed(f"{path}.seed", self.seed)
        _check_score(f"{path}.score", self.score)
        if not isinstance(self.tries, list):
            raise ValueError(f"{path}.tries must be a list of {{'seed': ..., 'score': ...}}")
        for i, attempt in enumerate(self.tries):
            where = f"{path}.tries[{i}]"
            _check_keys(where, attempt, ("seed", "score"), ("seed", "score"))
            _check_seed(f"{where}.seed", attempt["seed"])
            _check_score(f"{where}.score", attempt["score"], optional=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt, "entities": list(self.entities), "background": self.background,
            "camera": self.camera, "frames": self.frames,
            "prompt_keys": {str(k): v for k, v in sorted(self.prompt_keys.items())},
            "seed": self.seed, "score": self.score, "tries": [dict(t) for t in self.tries],
        }

    @classmethod
    def from_dict(cls, data: Any, path: str = "scene", declared: set[str] | None = None) -> Scene:
        _check_keys(path, data, _field_names(cls), ("prompt",))
        values = dict(data)
        keys = values.get("prompt_keys")
        if keys is not None:
            if not isinstance(keys, dict):
                raise ValueError(f"{path}.prompt_keys must be a mapping of frame index to prompt")
            values["prompt_keys"] = {_frame_index(f"{path}.prompt_keys", k): v for k, v in keys.items()}
        for name in ("entities", "prompt_keys", "tries"):
            if values.get(name, 0) is None:  # an explicit null is the empty default
                del values[name]
        scene = cls(**values)
        scene.validate(path, declared)
        return scene


def _frame_index(path: str, key: Any) -> int:
    """JSON object keys are strings: "12" -> 12."""
    if isinstance(key, str) and key.strip().isdigit():
        return int(key)
    raise ValueError(f"{path} key {key!r} must be a frame index >= 0")


def _declared_names(entities: Any) -> set[str]:
    """The entity names, after checking each entity and that no name is declared twice."""
    if not isinstance(entities, list):
        raise ValueError("entities must be a list of Entity")
    names: set[str] = set()
    for i, entity in enumerate(entities):
        if not isinstance(entity, Entity):
            raise ValueError(f"entities[{i}] must be an Entity, got {type(entity).__name__}")
        entity.validate(f"entities[{i}]")
        if entity.name in names:
            raise ValueError(f"entities[{i}].name {entity.name!r} is declared twice")
        names.add(entity.name)
    return names


@dataclass
class Script:
    """A story as scenes: ``story`` the original text (or None), ``entities`` declared once, ``scenes`` in
    order, ``seed`` the base seed of the render, ``planner`` which planner wrote it (None when hand-made).

    Construction validates; call :meth:`validate` again after editing fields in place.
    """

    scenes: list[Scene]
    entities: list[Entity] = field(default_factory=list)
    story: str | None = None
    seed: int = 0
    planner: str | None = None

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ValueError naming the first bad field by its path (``scenes[2].frames must be >= 1``)."""
        names = _declared_names(self.entities)
        if not isinstance(self.scenes, list) or not self.scenes:
            raise ValueError("scenes must be a non-empty list of Scene")
        for i, scene in enumerate(self.scenes):
            if not isinstance(scene, Scene):
                raise ValueError(f"scenes[{i}] must be a Scene, got {type(scene).__name__}")
            scene.validate(f"scenes[{i}]", names)
        _check_text("story", self.story, optional=True)
        if self.seed is None:
            raise ValueError("seed must be an integer in [0, 2**63 - 1], got None")
        _check_seed("seed", self.seed)
        _check_text("planner", self.planner, optional=True)

    def entity(self, name: str) -> Entity:
        """The declared entity called ``name``."""
        for entity in self.entities:
            if entity.name == name:
                return entity
        raise KeyError(f"no entity named {name!r}; declared: {[e.name for e in self.entities]}")

    # -- JSON --------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": SCRIPT_VERSION, "story": self.story, "seed": self.seed, "planner": self.planner,
            "entities": [e.to_dict() for e in self.entities], "scenes": [s.to_dict() for s in self.scenes],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_dict(cls, data: Any) -> Script:
        _check_keys("script", data, ("version", "story", "seed", "planner", "entities", "scenes"), ("scenes",))
        version = data.get("version", SCRIPT_VERSION)
        if version != SCRIPT_VERSION:
            raise ValueError(f"version must be {SCRIPT_VERSION}, got {version!r}")
        raw_entities = data.get("entities") or []
        if not isinstance(raw_entities, list):
            raise ValueError("entities must be a list of entity objects")
        entities = [Entity.from_dict(raw, f"entities[{i}]") for i, raw in enumerate(raw_entities)]
        raw_scenes = data["scenes"]
        if not isinstance(raw_scenes, list) or not raw_scenes:
            raise ValueError("scenes must be a non-empty list of scene objects")
        declared = _declared_names(entities)
        scenes = [Scene.from_dict(raw, f"scenes[{i}]", declared) for i, raw in enumerate(raw_scenes)]
        return cls(scenes=scenes, entities=entities, story=data.get("story"), seed=data.get("seed", 0),
                   planner=data.get("planner"))

    @classmethod
    def from_json(cls, text: str) -> Script:
        try:
            data = json.loads(text)
        except ValueError as err:
            raise ValueError(f"script is not valid JSON: {err}") from err
        return cls.from_dict(data)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the script as JSON; a temp file renamed into place, so no half-written file is left."""
        self.validate()
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(self.to_json())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Script:
        source = Path(path)
        try:
            text = source.read_text(encoding="utf-8")
        except OSError as err:
            raise ValueError(f"cannot read script {str(source)!r}: {err}") from err
        return cls.from_json(text)
