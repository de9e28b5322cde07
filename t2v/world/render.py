"""Render a :class:`WorldSpec` to frames: flat coloured shapes, anti-aliased by supersampling."""

from __future__ import annotations

import math

import numpy as np

from .spec import BACKGROUNDS, CHECKER_TONES, COLORS, ShapeObject, WorldSpec

CHECKER_CELLS = 8  # checker cells across the frame


def _shape_mask(obj: ShapeObject, t: float, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Boolean coverage of ``obj`` at time ``t`` on a grid of pixel centres given in frame fractions."""
    cx, cy, _ = obj.state(t)
    r = obj.radius(t)
    dx, dy = xs - cx, ys - cy
    if obj.shape == "circle":
        return dx * dx + dy * dy <= r * r
    if obj.shape == "square":
        half = 0.9 * r
        return (np.abs(dx) <= half) & (np.abs(dy) <= half)
    # Equilateral triangle pointing up, circumradius 1.35 r, centred on its centroid.
    big_r = 1.35 * r
    apex = cy - big_r
    base = cy + big_r / 2.0
    half_base = big_r * math.sqrt(3.0) / 2.0
    inside_y = (ys >= apex) & (ys <= base)
    # Half-width grows linearly from the apex to the base.
    half_width = half_base * (ys - apex) / (base - apex)
    return inside_y & (np.abs(dx) <= half_width)


def _background(spec: WorldSpec, t: float, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    if spec.background != "checkered":
        color = np.array(BACKGROUNDS[spec.background], dtype=np.float32)
        return np.broadcast_to(color, xs.shape + (3,)).copy()
    shift = spec.camera_offset(t)
    cells_x = np.floor((xs + shift) * CHECKER_CELLS).astype(np.int64)
    cells_y = np.floor(ys * CHECKER_CELLS).astype(np.int64)
    parity = (cells_x + cells_y) % 2
    tones = np.array(CHECKER_TONES, dtype=np.float32)
    return tones[parity]


def render(spec: WorldSpec, supersample: int = 4) -> np.ndarray:
    """Frames of ``spec`` as ``uint8`` array ``(frames, size, size, 3)``.

    Each pixel averages ``supersample``² sub-pixels, so edges are soft like a camera's.
    Objects are drawn in order: the second is on top where they overlap.
    """
    if not isinstance(supersample, int) or not 1 <= supersample <= 8:
        raise ValueError(f"supersample must be an integer in [1, 8], got {supersample!r}")
    n = spec.size * supersample
    coords = (np.arange(n, dtype=np.float32) + 0.5) / n
    xs, ys = np.meshgrid(coords, coords)
    out = np.empty((spec.frames, spec.size, spec.size, 3), dtype=np.uint8)
    for i, t in enumerate(spec.times()):
        canvas = _background(spec, t, xs, ys)
        for obj in spec.objects:
            canvas[_shape_mask(obj, t, xs, ys)] = COLORS[obj.color]
        if supersample > 1:
            canvas = canvas.reshape(spec.size, supersample, spec.size, supersample, 3).mean(axis=(1, 3))
        out[i] = np.clip(np.rint(canvas), 0, 255).astype(np.uint8)
    return out


def object_coverage(spec: WorldSpec, supersample: int = 4) -> np.ndarray:
    """Visible coverage in [0, 1] of each object on each frame, ``float32 (frames, objects, size, size)``.

    Drawn as :func:`render` draws: a later object hides an earlier one where they overlap, so the
    coverage is what a pixel shows, the labels a per-pixel reader of rendered frames should learn.
    """
    if not isinstance(supersample, int) or not 1 <= supersample <= 8:
        raise ValueError(f"supersample must be an integer in [1, 8], got {supersample!r}")
    n = spec.size * supersample
    coords = (np.arange(n, dtype=np.float32) + 0.5) / n
    xs, ys = np.meshgrid(coords, coords)
    out = np.zeros((spec.frames, len(spec.objects), spec.size, spec.size), dtype=np.float32)
    for i, t in enumerate(spec.times()):
        owner = np.full((n, n), -1, dtype=np.int64)
        for k, obj in enumerate(spec.objects):
            owner[_shape_mask(obj, t, xs, ys)] = k
        for k in range(len(spec.objects)):
            hit = (owner == k).astype(np.float32)
            out[i, k] = hit.reshape(spec.size, supersample, spec.size, supersample).mean(axis=(1, 3))
    return out
