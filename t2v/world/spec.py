"""The shapes world's structured, JSON-serialisable scene spec and its vocabulary.

Everything else in the world (renderer, captions, parser, oracle, facts) speaks this
vocabulary, so it lives in one place.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

# Object colours (sRGB, 0-255). Hues are spread so colour survives blur and drift.
COLORS: dict[str, tuple[int, int, int]] = {
    "red": (215, 40, 40),
    "orange": (240, 140, 20),
    "yellow": (235, 215, 30),
    "green": (40, 170, 60),
    "blue": (40, 90, 225),
    "purple": (150, 60, 200),
}
SHAPES: tuple[str, ...] = ("circle", "square", "triangle")
SIZES: tuple[str, ...] = ("small", "big")
MOTIONS: tuple[str, ...] = ("left", "right", "up", "down", "still", "bounce", "grow", "shrink")
NOUN_ATTRIBUTES: tuple[str, ...] = ("color", "shape", "size")  # what "a big red ball" names an object by
TRANSLATIONS: dict[str, tuple[float, float]] = {
    "left": (-1.0, 0.0),
    "right": (1.0, 0.0),
    "up": (0.0, -1.0),
    "down": (0.0, 1.0),
}
RELATIONS: tuple[str, ...] = ("left of", "right of", "above", "below")
# Plain backgrounds by colour; "checkered" is a two-tone texture a camera can pan over.
BACKGROUNDS: dict[str, tuple[int, int, int]] = {
    "black": (15, 15, 15),
    "gray": (125, 125, 125),
    "white": (235, 235, 235),
    "checkered": (60, 60, 60),
}
CHECKER_TONES: tuple[tuple[int, int, int], tuple[int, int, int]] = ((60, 60, 60), (170, 170, 170))
CAMERAS: tuple[str, ...] = ("static", "pan left", "pan right")

# Geometry, as fractions of the frame side.
RADIUS: dict[str, float] = {"small": 0.10, "big": 0.18}
TRAVEL = 0.45  # distance a translating object covers over the clip
BOUNCE_HEIGHT = 0.28
GROW_RANGE = (0.55, 1.45)  # scale at the first and last frame of "grow" ("shrink" reverses it)
CAMERA_TRAVEL = 0.5
MAX_OBJECTS = 2

MIN_SIZE, MAX_SIZE = 32, 512
MIN_FRAMES, MAX_FRAMES = 2, 64
MIN_FPS, MAX_FPS = 1, 60


def _check_choice(name: str, value: Any, allowed: Any) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {sorted(allowed)}, got {value!r}")


def _check_range(name: str, value: Any, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ValueError(f"{name} must be a number in [{low}, {high}], got {value!r}")


@dataclass(frozen=True)
class ShapeObject:
    """One coloured shape: what it is, where it starts (centre, fractions of the frame) and how it moves."""

    shape: str
    color: str
    size: str = "big"
    motion: str = "still"
    x: float = 0.5
    y: float = 0.5

    def __post_init__(self) -> None:
        _check_choice("shape", self.shape, SHAPES)
        _check_choice("color", self.color, COLORS)
        _check_choice("size", self.size, SIZES)
        _check_choice("motion", self.motion, MOTIONS)
        _check_range("x", self.x, -0.5, 1.5)
        _check_range("y", self.y, -0.5, 1.5)

    def state(self, t: float) -> tuple[float, float, float]:
        """Centre (x, y) and scale at clip time ``t`` in [0, 1]; the size is the nominal one at scale 1."""
        cx, cy, scale = self.x, self.y, 1.0
        if self.motion in TRANSLATIONS:
            dx, dy = TRANSLATIONS[self.motion]
            cx += dx * TRAVEL * t
            cy += dy * TRAVEL * t
        elif self.motion == "bounce":
            cy -= BOUNCE_HEIGHT * abs(math.sin(2.0 * math.pi * t))
        elif self.motion in ("grow", "shrink"):
            lo, hi = GROW_RANGE
            frac = t if self.motion == "grow" else 1.0 - t
            scale = lo + (hi - lo) * frac
        return cx, cy, scale

    def radius(self, t: float) -> float:
        """Half-extent as a fraction of the frame at clip time ``t``."""
        return RADIUS[self.size] * self.state(t)[2]

    def describe(self) -> str:
        return f"{self.size} {self.color} {self.shape}"


@dataclass(frozen=True)
class WorldSpec:
    """A whole clip: one or two objects, an optional relation of the first to the second,
    a background, a camera, and the clip's format."""

    objects: tuple[ShapeObject, ...]
    background: str = "black"
    relation: str | None = None
    camera: str = "static"
    frames: int = 16
    size: int = 64
    fps: int = 8
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        objects = tuple(self.objects)
        object.__setattr__(self, "objects", objects)
        if not 1 <= len(objects) <= MAX_OBJECTS:
            raise ValueError(f"objects must hold 1 to {MAX_OBJECTS} shapes, got {len(objects)}")
        for obj in objects:
            if not isinstance(obj, ShapeObject):
                raise ValueError(f"objects must be ShapeObject instances, got {type(obj).__name__}")
        _check_choice("background", self.background, BACKGROUNDS)
        _check_choice("camera", self.camera, CAMERAS)
        if self.camera != "static" and self.background != "checkered":
            raise ValueError("camera pans need a textured background: use background='checkered'")
        if self.relation is not None:
            _check_choice("relation", self.relation, RELATIONS)
            if len(objects) != 2:
                raise ValueError("relation needs exactly two objects")
        if isinstance(self.frames, bool) or not isinstance(self.frames, int):
            raise ValueError(f"frames must be an integer, got {self.frames!r}")
        _check_range("frames", self.frames, MIN_FRAMES, MAX_FRAMES)
        if isinstance(self.size, bool) or not isinstance(self.size, int):
            raise ValueError(f"size must be an integer, got {self.size!r}")
        _check_range("size", self.size, MIN_SIZE, MAX_SIZE)
        if self.size % 8:
            raise ValueError(f"size must be a multiple of 8, got {self.size}")
        _check_range("fps", self.fps, MIN_FPS, MAX_FPS)

    # -- time ---------------------------------------------------------------
    def times(self) -> list[float]:
        """Clip time in [0, 1] of every frame."""
        return [i / (self.frames - 1) for i in range(self.frames)]

    def camera_offset(self, t: float) -> float:
        """Horizontal shift of the background texture (fraction of the frame) at time ``t``.

        Panning right moves the view right, so the scenery slides left in the frame.
        """
        if self.camera == "static":
            return 0.0
        direction = 1.0 if self.camera == "pan right" else -1.0
        return direction * CAMERA_TRAVEL * t

    # -- serialisation ------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("extra")
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorldSpec:
        if not isinstance(data, dict):
            raise ValueError(f"spec must be a mapping, got {type(data).__name__}")
        data = dict(data)
        raw_objects = data.pop("objects", None)
        if not isinstance(raw_objects, (list, tuple)):
            raise ValueError("spec needs 'objects': a list of shapes")
        objects = []
        for raw in raw_objects:
            if not isinstance(raw, dict):
                raise ValueError(f"each object must be a mapping, got {type(raw).__name__}")
            unknown = set(raw) - {"shape", "color", "size", "motion", "x", "y"}
            if unknown:
                raise ValueError(f"unknown object field(s): {sorted(unknown)}")
            objects.append(ShapeObject(**raw))
        unknown = set(data) - {"background", "relation", "camera", "frames", "size", "fps"}
        if unknown:
            raise ValueError(f"unknown spec field(s): {sorted(unknown)}")
        return cls(objects=tuple(objects), **data)

    @classmethod
    def from_json(cls, text: str) -> WorldSpec:
        return cls.from_dict(json.loads(text))

    def with_format(self, *, frames: int | None = None, size: int | None = None, fps: int | None = None):
        """The same scene at another clip length, resolution or frame rate."""
        return replace(
            self,
            frames=self.frames if frames is None else frames,
            size=self.size if size is None else size,
            fps=self.fps if fps is None else fps,
        )
