"""The shapes-world oracle: reads any clip of the world from pixels and answers atomic
questions (:class:`~t2v.world.facts.Question`) with yes/no and a confidence.

It is the ground truth of the project's quality benchmarks, so its semantics follow
:func:`~t2v.world.facts.truth` exactly, and its own accuracy is measured on rendered clips
(``benchmarks/oracle.py``). Pipeline: background and camera from the border texture, blobs
from chroma, tracks from blobs, labels from tracks (``pixels``, ``background``, ``blobs``,
``tracking``, ``attributes``, ``shape_fit``); answers combine the labels' probabilities.

Example::

    oracle = ShapesOracle()
    reading = oracle.analyse(render(spec))
    oracle.answer(reading, Question("color", ObjectRef(shape="circle"), "red"))
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace

import numpy as np
from scipy import ndimage

from ..facts import ObjectRef, Question, relation_holds
from ..spec import CAMERA_TRAVEL, CAMERAS
from .attributes import AttributeScales, describe_track, sigmoid
from .background import pan_shifts, read_background
from .blobs import Blob, find_blobs, measure_blobs
from .pixels import PALETTE_MAGNITUDES, WORK_SIZE, chroma, to_rgb255, to_work_resolution
from .reading import ObjectReading, SceneReading
from .tracking import link_blobs

logger = logging.getLogger(__name__)
# A clip's measured chroma gain within this range is taken as the palette's own: noise and blur,
# not drift. Blobs this thick (pixels at 64) have saturated cores even when soft, so a narrower range.
_PALETTE_GAIN = (0.88, 1.05)
_PALETTE_GAIN_THICK = (0.95, 1.05)
_SATURATED_THICKNESS = 9.0
_OWN_GAIN = (
    0.7,
    1.1,
)  # a track's own chroma within this share of the clip's expected value is blur, not paint


@dataclass(frozen=True)
class OracleSettings(AttributeScales):
    """Tunable thresholds: perception below, labelling inherited from :class:`AttributeScales`.

    Pixel quantities are given for a 64-pixel frame and scale with it.
    """

    object_chroma: float = 40.0  # chroma (0-255) above which a pixel is part of an object
    denoise_sigma: float = 1.0  # Gaussian pre-smoothing, pixels
    min_blob_pixels: float = 6.0  # smaller regions are specks
    min_thickness: float = 1.5  # thinner regions are colour seams between touching shapes
    seed_fraction: float = 0.7  # a region whose cores above this share of its peak chroma are apart is split
    min_halo: float = 3.0  # pixels around a blob whose chroma counts towards its coverage ...
    max_halo: float = 8.0  # ... reaching out to this for very soft clips ...
    ring_floor: float = 0.01  # ... until a ring around the blobs holds less than this mean coverage
    touch: float = 1.5  # blobs closer than this count as touching
    checker_gap: float = 30.0  # luminance gap (0-255) between the two tones of a checkered border
    checker_share: float = 0.15  # share of the rarer tone on a checkered border
    hue_link_tolerance: float = 15.0  # degrees: a track may drift across a colour boundary by this much
    max_step: float = 0.3  # largest move between frames, fraction of the frame (plus 2 / frames)
    min_track_fraction: float = 0.25  # shorter tracks are spurious
    camera_scale: float = 0.05  # softness of the pan decision, fraction of the frame
    relation_scale: float = 0.01  # softness of the relation decision, fraction of the frame

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            low, high = _SETTING_LIMITS.get(f.name, (1e-6, 10.0))
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
                raise ValueError(f"{f.name} must be a number in [{low}, {high}], got {value!r}")
        if self.fit_views != int(self.fit_views):
            raise ValueError(f"fit_views must be an integer in [1, 16], got {self.fit_views!r}")


_SETTING_LIMITS: dict[str, tuple[float, float]] = {
    "object_chroma": (1.0, 200.0),
    "denoise_sigma": (0.0, 5.0),
    "min_blob_pixels": (0.0, 1000.0),
    "min_thickness": (0.0, 10.0),
    "seed_fraction": (0.0, 1.0),
    "min_halo": (0.5, 16.0),
    "max_halo": (0.5, 16.0),
    "ring_floor": (0.0, 0.5),
    "touch": (0.0, 10.0),
    "checker_gap": (1.0, 255.0),
    "checker_share": (0.0, 0.5),
    "hue_link_tolerance": (0.0, 90.0),
    "max_step": (0.01, 2.0),
    "min_track_fraction": (0.0, 1.0),
    "hue_scale": (1e-3, 90.0),
    "travel_fraction": (0.05, 0.95),
    "bounce_fraction": (0.05, 0.95),
    "growth_fraction": (0.05, 0.95),
    "fit_views": (1, 16),
    "fit_below": (0.0, 1.0),
    "fit_beyond": (0.0, 1000.0),
    "fit_correlation": (1.0, 1000.0),
}


@dataclass(frozen=True)
class OracleAnswer:
    """A yes/no verdict; ``confidence`` in [0, 1] is |2 P(yes) - 1|: 0 on the decision boundary."""

    yes: bool
    confidence: float

    @property
    def p_yes(self) -> float:
        """The probability of "yes" behind the verdict."""
        return 0.5 + 0.5 * self.confidence if self.yes else 0.5 - 0.5 * self.confidence


class ShapesOracle:
    """Answers :class:`Question`s about shapes-world clips from their pixels.

    ``settings`` (or keyword overrides of :class:`OracleSettings`) tune the thresholds.
    """

    def __init__(self, settings: OracleSettings | None = None, **overrides: float) -> None:
        base = settings if settings is not None else OracleSettings()
        if not isinstance(base, OracleSettings):
            raise ValueError(f"settings must be an OracleSettings, got {type(base).__name__}")
        known = {f.name for f in fields(OracleSettings)}
        unknown = set(overrides) - known
        if unknown:
            raise ValueError(f"unknown oracle setting(s) {sorted(unknown)}; allowed: {sorted(known)}")
        self.settings = replace(base, **overrides)

    # -- perception ------------------------------------------------------------------
    def analyse(self, frames: object) -> SceneReading:
        """Read a clip: uint8 or [0, 1] float, numpy or torch, ``(F, H, W, 3)`` or ``(F, 3, H, W)``."""
        s = self.settings
        rgb = to_work_resolution(to_rgb255(frames))
        n, h, w, _ = rgb.shape
        scale = math.sqrt(h * w) / WORK_SIZE
        sigma = s.denoise_sigma * min(max(scale, 0.5), 1.0)
        smooth = ndimage.gaussian_filter(rgb, (0.0, sigma, sigma, 0.0)) if sigma > 0 else rgb
        background = read_background(
            smooth,
            border=max(1, round(2 * scale)),
            object_chroma=s.object_chroma,
            checker_gap=s.checker_gap,
            checker_share=s.checker_share,
        )
        q = chroma(smooth) - np.array(background.cast, dtype=np.float32)
        camera_probs, shift = self._read_camera(smooth, q, background.probs["checkered"])

        objects = self._read_objects(q, scale)
        logger.debug(
            "read %d object(s) on a %s background, camera %s",
            len(objects),
            background.label,
            max(camera_probs, key=camera_probs.get),
        )
        return SceneReading(
            n_frames=n,
            height=h,
            width=w,
            background=background.label,
            background_probs=background.probs,
            camera=max(camera_probs, key=camera_probs.get),
            camera_probs=camera_probs,
            camera_shift=shift,
            objects=objects,
        )

    def _read_objects(self, q: np.ndarray, scale: float) -> list[ObjectReading]:
        """Blobs from chroma, tracks from blobs, measurements of the tracked blobs, labels of tracks."""
        s = self.settings
        n, h, w, _ = q.shape
        blobs = find_blobs(
            q,
            object_chroma=s.object_chroma,
            min_pixels=s.min_blob_pixels * scale * scale,
            min_thickness=s.min_thickness * min(scale, 1.0),
            seed_fraction=s.seed_fraction,
        )
        tracks, shared = link_blobs(
            blobs,
            n,
            math.sqrt(h * w),
            max_step=s.max_step + 2.0 / max(n - 1, 1),
            hue_tolerance=s.hue_link_tolerance,
            min_frames=max(1, math.ceil(s.min_track_fraction * n)),
        )
        kept = sorted({i for track in tracks for i in track.values()})
        remap = {old: new for new, old in enumerate(kept)}
        kept_blobs = [blobs[i] for i in kept]
        tracks = [{f: remap[i] for f, i in track.items()} for track in tracks]
        shared = {remap[i] for i in shared if i in remap}
        measure_blobs(
            q,
            kept_blobs,
            _full_chroma(tracks, kept_blobs, scale),
            min_halo=s.min_halo * scale,
            max_halo=max(s.max_halo, s.min_halo) * scale,
            ring_floor=s.ring_floor,
            touch=s.touch * scale,
        )
        return [describe_track(k, track, kept_blobs, shared, n, h, w, s) for k, track in enumerate(tracks)]

    def _read_camera(
        self, smooth: np.ndarray, q: np.ndarray, p_textured: float
    ) -> tuple[dict[str, float], float]:
        """Pan from the total horizontal shift of the background texture; plain backgrounds cannot pan."""
        n, _, w, _ = smooth.shape
        if n < 2 or p_textured < 1e-3:
            return {"static": 1.0, "pan left": 0.0, "pan right": 0.0}, 0.0
        objects = np.linalg.norm(q, axis=-1) > 0.5 * self.settings.object_chroma
        near = np.zeros((3, 3, 3), dtype=bool)
        near[1] = True
        valid = ~ndimage.binary_dilation(objects, structure=near, iterations=2)
        shift = float(pan_shifts(smooth.mean(axis=-1), valid).sum() / w)
        p_pan = sigmoid((abs(shift) - 0.5 * CAMERA_TRAVEL) / self.settings.camera_scale)
        p_right = sigmoid(shift / 0.02)
        pan = {"static": 1.0 - p_pan, "pan left": p_pan * (1.0 - p_right), "pan right": p_pan * p_right}
        probs = {c: p_textured * pan[c] + (1.0 - p_textured) * (c == "static") for c in CAMERAS}
        return probs, shift

    # -- answering --------------------------------------------------------------------
    def answer(self, frames_or_reading: object, question: Question) -> OracleAnswer:
        """Answer one question about a clip (frames) or an earlier :class:`SceneReading`."""
        reading = (
            frames_or_reading
            if isinstance(frames_or_reading, SceneReading)
            else self.analyse(frames_or_reading)
        )
        p = self.p_yes(reading, question)
        return OracleAnswer(yes=p >= 0.5, confidence=float(min(1.0, abs(2.0 * p - 1.0))))

    def answer_many(self, frames: object, questions: Iterable[Question]) -> list[OracleAnswer]:
        """Answer several questions about one clip, analysing it once."""
        questions = list(questions)
        for q in questions:
            _check_question(q)
        reading = frames if isinstance(frames, SceneReading) else self.analyse(frames)
        return [self.answer(reading, q) for q in questions]

    def p_yes(self, reading: SceneReading, question: Question) -> float:
        """Probability that the answer is yes, following ``facts.truth`` clause by clause."""
        _check_question(question)
        q = question
        if q.frames is not None and q.frames[1] >= reading.n_frames:
            raise ValueError(
                f"question frames {q.frames} out of range for a clip of {reading.n_frames} frames "
                f"(allowed 0 to {reading.n_frames - 1})"
            )
        if q.kind == "background":
            return reading.background_probs.get(q.value, 0.0)
        if q.kind == "camera":
            return reading.camera_probs.get(q.value, 0.0)
        start, end = q.frames if q.frames is not None else (0, reading.n_frames - 1)
        candidates = reading.objects
        if q.frames is not None:
            candidates = [o for o in candidates if o.visible_in(start, end)]
        if q.kind == "existence":
            return _any([_p_match(o, q.subject) for o in candidates])
        if q.kind == "count":
            return _p_count(np.array([_p_match(o, q.subject) for o in candidates]), q.value)
        if q.kind in ("color", "shape", "motion") or (q.kind == "size" and q.frames is None):
            return _any([_p_match(o, q.subject, {q.kind: q.value}) for o in candidates])
        if q.kind == "size":
            probs = []
            for o in candidates:
                per_frame = [
                    f.p_big if q.value == "big" else 1.0 - f.p_big for f in o.frames[start : end + 1]
                ]
                probs.append(_p_match(o, q.subject) * min(per_frame))
            return _any(probs)
        pairs = []
        for a in candidates:
            pa = _p_match(a, q.subject)
            for b in reading.objects:
                if a is b:
                    continue
                pb = _p_match(b, q.other)
                pairs.append(pa * pb * self._p_relation(a, b, q.value, start, end))
        return _any(pairs)

    def _p_relation(self, a: ObjectReading, b: ObjectReading, relation: str, start: int, end: int) -> float:
        """Probability that ``relation`` holds on more than half of the frames (Poisson-binomial)."""
        scale = self.settings.relation_scale
        per_frame = []
        for fa, fb in zip(a.frames[start : end + 1], b.frames[start : end + 1], strict=True):
            dx, dy = fb.x - fa.x, fb.y - fa.y
            holds = relation_holds((fa.x, fa.y), (fb.x, fb.y), relation)
            if relation in ("left of", "right of"):
                margin = min(abs(dx) - abs(dy), abs(dx))
            else:
                margin = min(abs(dy) - abs(dx), abs(dy))
            p = sigmoid(abs(margin) / scale)
            per_frame.append(p if holds else 1.0 - p)
        n = len(per_frame)
        dist = _poisson_binomial(np.array(per_frame))
        return float(dist[n // 2 + 1 :].sum())


def _check_question(question: object) -> None:
    if not isinstance(question, Question):
        raise ValueError(f"question must be a t2v.world.facts.Question, got {type(question).__name__}")


def _full_chroma(tracks: list[dict[int, int]], blobs: Sequence[Blob], scale: float) -> dict[int, np.ndarray]:
    """Chroma vector of full coverage for every tracked blob: its own hue, and a magnitude.

    Blur leaves the centre of a small shape short of its full colour, so the magnitude is the
    palette's, scaled by the clip's chroma gain measured on its thickest (best saturated)
    blobs when that gain lies outside ``_PALETTE_GAIN`` (a drifted clip: narrower when the
    thickest blob is surely saturated); a track whose own thickest cores disagree by more than
    ``_OWN_GAIN`` (an object drawn paler or stronger than the rest) keeps its own measurement.
    """
    ids = [i for track in tracks for i in track.values()]
    if not ids:
        return {}
    thick = np.array([blobs[i].thickness for i in ids])
    best = [i for i, t in zip(ids, thick, strict=True) if t >= thick.max() - 1.0]
    gain = float(
        np.median(
            [np.linalg.norm(blobs[i].core_chroma) / PALETTE_MAGNITUDES[blobs[i].color_index] for i in best]
        )
    )
    low, high = _PALETTE_GAIN_THICK if thick.max() >= _SATURATED_THICKNESS * scale else _PALETTE_GAIN
    if low <= gain <= high:
        gain = 1.0  # the shortfall is blur and noise, not a paler palette
    out: dict[int, np.ndarray] = {}
    for track in tracks:
        items = [blobs[i] for i in track.values()]
        cores = np.stack([b.core_chroma for b in items])
        own_thick = np.array([b.thickness for b in items])
        own = float(np.median(np.linalg.norm(cores[own_thick >= own_thick.max() - 1.0], axis=-1)))
        label = int(np.bincount([b.color_index for b in items]).argmax())
        expected = gain * float(PALETTE_MAGNITUDES[label])
        low, high = _OWN_GAIN
        magnitude = expected if low * expected <= own <= high * expected else own
        for i in track.values():
            core = blobs[i].core_chroma
            out[i] = core / max(float(np.linalg.norm(core)), 1e-9) * magnitude
    return out


def _p_match(obj: ObjectReading, ref: ObjectRef, asked: dict[str, str] | None = None) -> float:
    """P(obj satisfies ``ref`` and has the ``asked`` attribute values), attributes independent."""
    asked = asked or {}
    p = 1.0
    for attr, probs in (
        ("color", obj.color_probs),
        ("shape", obj.shape_probs),
        ("size", obj.size_probs),
        ("motion", obj.motion_probs),
    ):
        wanted = {v for v in (getattr(ref, attr, None), asked.get(attr)) if v is not None}
        if not wanted:
            continue
        p *= probs.get(wanted.pop(), 0.0) if len(wanted) == 1 else 0.0
    return p


def _any(probs: Sequence[float]) -> float:
    return float(1.0 - np.prod([1.0 - p for p in probs])) if probs else 0.0


def _poisson_binomial(probs: np.ndarray) -> np.ndarray:
    """Distribution of the number of successes of independent trials."""
    dist = np.zeros(len(probs) + 1)
    dist[0] = 1.0
    for p in probs:
        dist[1:] = dist[1:] * (1.0 - p) + dist[:-1] * p
        dist[0] *= 1.0 - p
    return dist


def _p_count(probs: np.ndarray, value: int) -> float:
    dist = _poisson_binomial(probs)
    return float(dist[value]) if value < len(dist) else 0.0


__all__ = ["OracleAnswer", "OracleSettings", "SceneReading", "ShapesOracle"]
