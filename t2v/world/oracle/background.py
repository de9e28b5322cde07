"""The background of a shapes-world clip from its frame border, and the camera pan from the
horizontal drift of the checkered texture."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..render import CHECKER_CELLS
from ..spec import BACKGROUNDS
from .pixels import chroma

PLAIN_BACKGROUNDS: tuple[str, ...] = tuple(b for b in BACKGROUNDS if b != "checkered")


@dataclass(frozen=True)
class BackgroundReading:
    """What the frame border says about the background."""

    label: str
    probs: dict[str, float]
    luminance: float  # median border luminance, 0-255
    tone_gap: float  # luminance gap between the two border clusters (checkered ~110)
    minority: float  # share of the smaller cluster
    cast: tuple[float, float]  # chroma of the background (0 for a neutral grey)


def _border(frames: np.ndarray, width: int) -> np.ndarray:
    """Border ring pixels of every frame, flattened to (N, channels)."""
    top, bottom = frames[:, :width], frames[:, -width:]
    left, right = frames[:, width:-width, :width], frames[:, width:-width, -width:]
    ch = frames.shape[-1]
    return np.concatenate([a.reshape(-1, ch) for a in (top, bottom, left, right)])


def _two_clusters(values: np.ndarray) -> tuple[float, float, float]:
    """Otsu split of 1-D values: (low mean, high mean, share of the smaller side)."""
    hist, edges = np.histogram(values, bins=64, range=(0.0, 255.0))
    centres = (edges[:-1] + edges[1:]) / 2.0
    weight = hist.astype(np.float64)
    w0 = np.cumsum(weight)
    m0 = np.cumsum(weight * centres)
    total, total_mass = w0[-1], m0[-1]
    w1 = total - w0
    with np.errstate(divide="ignore", invalid="ignore"):
        mean0 = m0 / w0
        mean1 = (total_mass - m0) / w1
        between = w0 * w1 * (mean0 - mean1) ** 2
    between = np.nan_to_num(between[:-1], nan=-1.0)
    k = int(np.argmax(between))
    if between[k] <= 0.0:  # a single tone: no split
        median = float(np.median(values))
        return median, median, 0.0
    share = min(w0[k], w1[k]) / max(total, 1.0)
    return float(mean0[k]), float(mean1[k]), float(share)


def _softmax(scores: dict[str, float]) -> dict[str, float]:
    top = max(scores.values())
    exp = {k: math.exp(v - top) for k, v in scores.items()}
    norm = sum(exp.values())
    return {k: v / norm for k, v in exp.items()}


def read_background(
    smooth: np.ndarray, *, border: int, object_chroma: float, checker_gap: float, checker_share: float
) -> BackgroundReading:
    """Background label from the border ring: bimodal luminance means checkered, else the nearest grey."""
    ring = _border(smooth, border)
    uv = chroma(ring)
    cast = np.median(uv, axis=0)
    neutral = np.linalg.norm(uv - cast, axis=-1) < object_chroma
    lum = ring[neutral].mean(axis=-1) if neutral.sum() >= 16 else ring.mean(axis=-1)
    low, high, share = _two_clusters(lum)
    gap = high - low
    median = float(np.median(lum))
    # Checkered needs both a wide luminance gap and a real second tone.
    checker_score = min((gap - checker_gap) / 5.0, (share - checker_share) / 0.04)
    p_checker = 1.0 / (1.0 + math.exp(-max(min(checker_score, 30.0), -30.0)))
    plain_lum = {b: float(np.mean(BACKGROUNDS[b])) for b in PLAIN_BACKGROUNDS}
    plain = _softmax({b: -abs(median - v) / 12.0 for b, v in plain_lum.items()})
    probs = {b: (1.0 - p_checker) * p for b, p in plain.items()}
    probs["checkered"] = p_checker
    label = max(probs, key=probs.get)
    return BackgroundReading(label, probs, median, gap, share, (float(cast[0]), float(cast[1])))


# -- camera ------------------------------------------------------------------------------


def pan_shifts(lum: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Horizontal texture shift (pixels) between consecutive frames: frame t+1 at x shows frame t at x + s.

    Searched within half a checker period (the texture repeats every two cells), refined to
    sub-pixel by a parabola through the error minimum. ``valid`` masks out object pixels.
    """
    n, _, w = lum.shape
    if n < 2:
        return np.zeros(0)
    reach = max(1, int(math.ceil(w / CHECKER_CELLS)) - 1)
    shifts = np.arange(-reach, reach + 1)
    errors = np.empty((len(shifts), n - 1))
    for k, d in enumerate(shifts):
        lo, hi = max(0, -d), w - max(0, d)
        cur, prev = lum[1:, :, lo:hi], lum[:-1, :, lo + d : hi + d]
        weight = valid[1:, :, lo:hi] & valid[:-1, :, lo + d : hi + d]
        sq = (cur - prev) ** 2 * weight
        errors[k] = sq.sum(axis=(1, 2)) / np.maximum(weight.sum(axis=(1, 2)), 1)
    best = np.argmin(errors, axis=0)
    out = shifts[best].astype(np.float64)
    inner = (best > 0) & (best < len(shifts) - 1)
    cols = np.nonzero(inner)[0]
    e0, e1, e2 = errors[best[cols] - 1, cols], errors[best[cols], cols], errors[best[cols] + 1, cols]
    denom = e0 - 2.0 * e1 + e2
    with np.errstate(divide="ignore", invalid="ignore"):
        offset = np.where(denom > 1e-9, 0.5 * (e0 - e2) / denom, 0.0)
    out[cols] += np.clip(offset, -0.5, 0.5)
    return out
