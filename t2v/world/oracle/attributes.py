"""Turn one measured track into an :class:`ObjectReading`: colour, shape, size and motion,
each a probability over the world's vocabulary derived from how far the measurement lies
from the decision boundary (not a constant)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..facts import SIZE_THRESHOLD
from ..spec import BOUNCE_HEIGHT, GROW_RANGE, TRAVEL
from .blobs import Blob
from .pixels import COLOR_NAMES, PALETTE_HUES, hue_degrees, hue_distance
from .reading import FrameReading, ObjectReading
from .shape_fit import fit_errors

# Area of each shape in units of r² (see render.py: square half side 0.9 r, triangle circumradius 1.35 r).
AREA_PER_R2: dict[str, float] = {
    "circle": math.pi,
    "square": 1.8**2,
    "triangle": 3.0 * math.sqrt(3.0) / 4.0 * 1.35**2,
}
# Blur-invariant moments (square_moment, triangle_moment) of the ideal shapes.
SHAPE_PROTOTYPES: dict[str, tuple[float, float]] = {
    "circle": (0.0, 0.0),
    "square": (-1.0 / 60.0, 0.0),
    "triangle": (0.0, 0.0675),
}
_GROWTH = (GROW_RANGE[1] - GROW_RANGE[0]) / 1.0  # relative radius change over a grow/shrink clip


@dataclass(frozen=True)
class AttributeScales:
    """Decision thresholds (as fractions of the world's geometry) and the softness of each decision."""

    hue_scale: float = 3.0  # degrees
    square_scale: float = 0.004
    triangle_scale: float = 0.012
    size_scale: float = 0.02  # log radius
    travel_fraction: float = 0.5  # of TRAVEL: net displacement that counts as moving
    bounce_fraction: float = 0.5  # of BOUNCE_HEIGHT
    growth_fraction: float = 0.5  # of the grow/shrink radius change
    motion_scale: float = 0.03  # frame fractions
    growth_scale: float = 0.08
    fit_views: int = 3  # views of a shape that are fitted when moments cannot tell
    fit_below: float = 0.999  # moment-based shape probability under which the models are fitted ...
    fit_beyond: float = 2.5  # ... or moments this far (in scales) from every ideal shape
    fit_correlation: float = 10.0  # pixels per independent residual in a fit


def sigmoid(z: float) -> float:
    z = max(min(z, 40.0), -40.0)
    return 1.0 / (1.0 + math.exp(-z))


def _softmax(scores: np.ndarray) -> np.ndarray:
    e = np.exp(scores - scores.max())
    return e / e.sum()


def _color_probs(vectors: np.ndarray, weights: np.ndarray, scale: float) -> tuple[dict[str, float], float]:
    units = vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-9)
    mean = (units * weights[:, None]).sum(axis=0)
    hue = float(hue_degrees(mean))
    probs = _softmax(-hue_distance(hue, PALETTE_HUES) / scale)
    return dict(zip(COLOR_NAMES, probs.tolist(), strict=True)), hue


def _shape_probs(square: float, triangle: float, scales: AttributeScales) -> dict[str, float]:
    d2 = np.array(
        [
            ((square - s) / scales.square_scale) ** 2 + ((triangle - t) / scales.triangle_scale) ** 2
            for s, t in SHAPE_PROTOTYPES.values()
        ]
    )
    return dict(zip(SHAPE_PROTOTYPES, _softmax(-0.5 * d2).tolist(), strict=True))


def _fitted_shape_probs(
    blobs: list[Blob], scales: AttributeScales, *, whole: bool
) -> dict[str, float] | None:
    """Shape probabilities from model fits to the largest few views of a shape (see ``shape_fit``).

    The log-likelihood of each shape is its extra squared error over the best shape's, in
    units of the best fit's per-pixel residual variance, shrunk by ``fit_correlation`` because
    neighbouring pixels of a blurred clip are not independent.
    """
    views = sorted((b for b in blobs if b.coverage is not None), key=lambda b: -b.area)[: scales.fit_views]
    if not views:
        return None
    totals = dict.fromkeys(SHAPE_PROTOTYPES, 0.0)
    pixels = 0
    for b in views:
        errors, count = fit_errors(
            b.coverage, b.coverage != 0, b.coverage_top, b.coverage_left, b.area, (b.cx, b.cy), whole=whole
        )
        pixels += count
        for shape, err in errors.items():
            totals[shape] += err
    best = min(totals.values())
    variance = max(best / max(pixels, 1), 1e-4)
    scores = np.array(
        [-(totals[s] - best) / (2.0 * variance * scales.fit_correlation) for s in SHAPE_PROTOTYPES]
    )
    return dict(zip(SHAPE_PROTOTYPES, _softmax(scores).tolist(), strict=True))


def _size_prob_big(radius: float, scale: float) -> float:
    return sigmoid(math.log(max(radius, 1e-6) / SIZE_THRESHOLD) / scale)


def _line(ts: np.ndarray, values: np.ndarray) -> tuple[float, float]:
    """Least-squares line (intercept at t=0, slope per clip); constant if there is one time."""
    if len(ts) == 0:
        return 0.0, 0.0
    if len(np.unique(ts)) < 2:
        return float(values.mean()), 0.0
    slope, intercept = np.polyfit(ts, values, 1)
    return float(intercept), float(slope)


def _motion_probs(dx: float, dy: float, bounce: float, growth: float, s: AttributeScales) -> dict[str, float]:
    """Hierarchical decision: size change, then up-and-back, then net travel, else still."""
    p_scale = sigmoid((abs(growth) - s.growth_fraction * _GROWTH) / s.growth_scale)
    p_grow = sigmoid(growth / 0.05)
    p_bounce = sigmoid((bounce - s.bounce_fraction * BOUNCE_HEIGHT) / s.motion_scale)
    travel = max(abs(dx), abs(dy))
    p_move = sigmoid((travel - s.travel_fraction * TRAVEL) / s.motion_scale)
    p_horizontal = sigmoid((abs(dx) - abs(dy)) / s.motion_scale)
    rest = (1.0 - p_scale) * (1.0 - p_bounce)
    return {
        "left": rest * p_move * p_horizontal * sigmoid(-dx / 0.02),
        "right": rest * p_move * p_horizontal * sigmoid(dx / 0.02),
        "up": rest * p_move * (1.0 - p_horizontal) * sigmoid(-dy / 0.02),
        "down": rest * p_move * (1.0 - p_horizontal) * sigmoid(dy / 0.02),
        "still": rest * (1.0 - p_move),
        "bounce": (1.0 - p_scale) * p_bounce,
        "grow": p_scale * p_grow,
        "shrink": p_scale * (1.0 - p_grow),
    }


def describe_track(
    index: int,
    track: dict[int, int],
    blobs: list[Blob],
    shared: set[int],
    n_frames: int,
    height: int,
    width: int,
    scales: AttributeScales,
) -> ObjectReading:
    """Labels and per-frame readings of one track (``{frame: blob index}``) of measured blobs.

    Views are ranked: clean (whole, alone) before whole (not cut by the frame edge) before
    unshared (not merged with a same-coloured shape); each label uses the best views there are.
    """
    frames = sorted(track)
    items = [blobs[track[f]] for f in frames]
    times = np.array(frames, dtype=np.float64) / max(n_frames - 1, 1)
    unshared = np.array([track[f] not in shared for f in frames])
    whole = unshared & np.array([not b.touches_border for b in items])
    clean = whole & np.array([not b.near_other for b in items])
    best = (
        clean
        if clean.any()
        else whole
        if whole.any()
        else unshared
        if unshared.any()
        else np.ones_like(clean)
    )
    areas = np.array([b.area for b in items])

    color_probs, hue = _color_probs(
        np.stack([b.core_chroma for b in items])[best], np.maximum(areas[best], 1e-6), scales.hue_scale
    )
    shape_probs, square, triangle = _track_shape(items, best, unshared, whole.any(), scales)
    shape = max(shape_probs, key=shape_probs.get)

    # Radius from the blur-invariant area; a line through the best views gives the radius on
    # any frame (growth is linear in time) and the nominal radius at mid-clip.
    radii = np.sqrt(np.maximum(areas, 0.0) / AREA_PER_R2[shape]) / math.sqrt(height * width)
    r0, r_slope = _line(times[best], radii[best])
    nominal = r0 + 0.5 * r_slope
    p_big = _size_prob_big(nominal, scales.size_scale)
    growth = r_slope / max(nominal, 1e-6)

    located = unshared if unshared.sum() >= 2 else np.ones_like(unshared)
    xs = np.array([b.cx for b in items])[located] / width
    ys = np.array([b.cy for b in items])[located] / height
    _, dx = _line(times[located], xs)
    _, dy = _line(times[located], ys)
    bounce = min(float(ys[0]), float(ys[-1])) - float(ys.min())
    motion_probs = _motion_probs(dx, dy, bounce, growth, scales)

    all_frames = np.arange(n_frames)
    fx = np.interp(all_frames, np.array(frames)[located], xs)
    fy = np.interp(all_frames, np.array(frames)[located], ys)
    measured = {f: float(r) for f, r, ok in zip(frames, radii, clean, strict=True) if ok}
    per_frame = []
    for f in range(n_frames):
        blob = blobs[track[f]] if f in track else None
        radius = measured.get(f, r0 + r_slope * f / max(n_frames - 1, 1))
        pb = _size_prob_big(radius, scales.size_scale)
        per_frame.append(
            FrameReading(
                frame=f,
                x=float(fx[f]),
                y=float(fy[f]),
                radius=radius,
                area=float(blob.area / (height * width)) if blob else 0.0,
                size="big" if pb >= 0.5 else "small",
                p_big=pb,
                color=COLOR_NAMES[int(np.argmin(hue_distance(blob.hue, PALETTE_HUES)))] if blob else "",
                shape=_best(_shape_probs(blob.square_moment, blob.triangle_moment, scales)) if blob else "",
                observed=blob is not None and track[f] not in shared,
                clean=f in measured,
                visible=frames[0] <= f <= frames[-1],
            )
        )
    return ObjectReading(
        id=index,
        color=_best(color_probs),
        shape=shape,
        size="big" if p_big >= 0.5 else "small",
        motion=_best(motion_probs),
        color_probs=color_probs,
        shape_probs=shape_probs,
        size_probs={"small": 1.0 - p_big, "big": p_big},
        motion_probs=motion_probs,
        frames=per_frame,
        features={
            "hue": hue,
            "square_moment": square,
            "triangle_moment": triangle,
            "radius": nominal,
            "dx": dx,
            "dy": dy,
            "bounce": bounce,
            "growth": growth,
            "clean_frames": int(clean.sum()),
        },
    )


def _best(probs: dict[str, float]) -> str:
    return max(probs, key=probs.get)


def _track_shape(
    items: list[Blob], best: np.ndarray, unshared: np.ndarray, ever_whole: bool, scales: AttributeScales
) -> tuple[dict[str, float], float, float]:
    """Shape probabilities from the median moments of the best views, or from model fits when
    the shape was never whole in view or the moments are unsure or fit no shape (small or noisy).

    Moments of a small view are dominated by noise far from its centre, so only views at least
    half as large as the largest count (a growing shape's later frames).
    """
    chosen = [b for b, ok in zip(items, best, strict=True) if ok]
    largest = max(b.area for b in chosen)
    large = [b for b in chosen if b.area >= 0.5 * largest]
    square = float(np.median([b.square_moment for b in large]))
    triangle = float(np.median([b.triangle_moment for b in large]))
    probs = _shape_probs(square, triangle, scales)
    if not ever_whole:
        views = [b for b, ok in zip(items, unshared, strict=True) if ok] or items
        probs = _fitted_shape_probs(views, scales, whole=False) or probs
    elif (
        max(probs.values()) < scales.fit_below
        or _prototype_distance(square, triangle, scales) > scales.fit_beyond
    ):
        probs = _fitted_shape_probs(chosen, scales, whole=True) or probs
    return probs, square, triangle


def _prototype_distance(square: float, triangle: float, scales: AttributeScales) -> float:
    """Distance from the moments to the nearest ideal shape, in units of the decision scales."""
    return min(
        math.hypot((square - s) / scales.square_scale, (triangle - t) / scales.triangle_scale)
        for s, t in SHAPE_PROTOTYPES.values()
    )
