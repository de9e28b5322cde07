"""Shape of a blob that the frame edge cuts off, by fitting each shape model to its coverage.

Moment features assume the whole shape is in view; for a shape poking out of the frame the
oracle instead asks which world shape, placed, sized and blurred to fit best, explains the
visible coverage. The geometry mirrors ``render.py``: circle of radius r, square of half
side 0.9 r, upright equilateral triangle of circumradius 1.35 r centred on its centroid.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage
from scipy.optimize import minimize, minimize_scalar

from ..spec import SHAPES

SUPERSAMPLE = 2
_AREA_PER_R2 = {"circle": math.pi, "square": 1.8**2, "triangle": 3.0 * math.sqrt(3.0) / 4.0 * 1.35**2}


def shape_coverage(shape: str, cx: float, cy: float, r: float, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Boolean coverage of a world shape at sample points (pixel units)."""
    dx, dy = xs - cx, ys - cy
    if shape == "circle":
        return dx * dx + dy * dy <= r * r
    if shape == "square":
        half = 0.9 * r
        return (np.abs(dx) <= half) & (np.abs(dy) <= half)
    big_r = 1.35 * r
    apex, base = cy - big_r, cy + big_r / 2.0
    half_width = big_r * math.sqrt(3.0) / 2.0 * (ys - apex) / (base - apex)
    return (ys >= apex) & (ys <= base) & (np.abs(dx) <= half_width)


def fit_errors(
    coverage: np.ndarray,
    region: np.ndarray,
    top: int,
    left: int,
    area: float,
    centre: tuple[float, float],
    *,
    whole: bool,
) -> tuple[dict[str, float], int]:
    """Least squared error of each shape's best fit to ``coverage``.

    ``coverage`` and ``region`` (where it counts) cover a window whose first pixel is at
    (``top``, ``left``) of the frame. For a ``whole`` view the blur-invariant ``area`` and
    ``centre`` fix each shape's size and place, and only the blur is fitted; for a view cut by
    the frame edge they only seed a fit of position, radius and blur.
    Returns the errors by shape and the number of pixels compared.
    """
    h, w = coverage.shape
    rows = (np.arange(h * SUPERSAMPLE) + 0.5) / SUPERSAMPLE + top
    cols = (np.arange(w * SUPERSAMPLE) + 0.5) / SUPERSAMPLE + left
    ys, xs = np.meshgrid(rows, cols, indexing="ij")
    target = coverage[region]

    def error(shape: str, cx: float, cy: float, r: float, blur: float) -> float:
        model = shape_coverage(shape, cx, cy, r, xs, ys).astype(np.float64)
        model = model.reshape(h, SUPERSAMPLE, w, SUPERSAMPLE).mean(axis=(1, 3))
        model = ndimage.gaussian_filter(model, blur, mode="nearest")
        return float(((model[region] - target) ** 2).sum())

    errors = {}
    for shape in SHAPES:
        r = max(math.sqrt(max(area, 0.0) / _AREA_PER_R2[shape]), 0.5)
        if whole:
            result = minimize_scalar(
                lambda b, s=shape, r=r: error(s, centre[0], centre[1], r, b),
                bounds=(0.2, 5.0),
                method="bounded",
                options={"xatol": 0.05},
            )
        else:
            start = np.array([centre[0], centre[1], math.log(r) + 0.1, math.log(1.2)])
            result = minimize(
                lambda p, s=shape: error(s, p[0], p[1], math.exp(p[2]), math.exp(p[3])),
                start,
                method="Nelder-Mead",
                options={"maxiter": 160, "xatol": 1e-2, "fatol": 1e-4},
            )
        errors[shape] = float(result.fun)
    return errors, int(region.sum())
