"""What the oracle perceived in a clip: background, camera and tracked objects, with the
probabilities behind every label, serialisable to JSON for debugging and reports."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class FrameReading:
    """One object in one frame. Positions and radius are fractions of the frame side.

    ``observed`` is False where the object was not seen on its own (hidden, merged with a
    same-coloured shape, or outside the span it was tracked over) and values are inferred
    from the rest of its track; ``clean`` marks a full, unobstructed view.
    """

    frame: int
    x: float
    y: float
    radius: float
    area: float  # fraction of the frame area
    size: str  # apparent size on this frame
    p_big: float
    color: str
    shape: str
    observed: bool
    clean: bool
    visible: bool  # within the frames the object was tracked over


@dataclass
class ObjectReading:
    """One tracked object: its most likely labels, their probabilities, and every frame."""

    id: int
    color: str
    shape: str
    size: str  # nominal size: the radius at the middle of the clip
    motion: str
    color_probs: dict[str, float]
    shape_probs: dict[str, float]
    size_probs: dict[str, float]
    motion_probs: dict[str, float]
    frames: list[FrameReading]
    features: dict[str, float] = field(default_factory=dict)  # measured quantities behind the labels

    def visible_in(self, start: int, end: int) -> bool:
        return any(f.visible for f in self.frames[start : end + 1])


@dataclass
class SceneReading:
    """Everything the oracle read from a clip; ``answer`` works from this alone."""

    n_frames: int
    height: int
    width: int
    background: str
    background_probs: dict[str, float]
    camera: str
    camera_probs: dict[str, float]
    camera_shift: float  # texture shift over the clip, fraction of the width; > 0 slides left (pan right)
    objects: list[ObjectReading]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable dict (floats rounded for readability)."""
        return _rounded(asdict(self))


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 5)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_rounded(v) for v in value]
    return value
