"""Pixels of a shapes-world clip: input conversion and the chroma plane the oracle reads.

The world's backgrounds are neutral greys and its objects saturated colours, so the chroma
plane (the RGB plane orthogonal to the grey axis) separates objects from any background, and
a blurred pixel's chroma is its object's chroma scaled by the coverage.
"""

from __future__ import annotations

import math

import numpy as np

from ..spec import COLORS

COLOR_NAMES: tuple[str, ...] = tuple(COLORS)
WORK_SIZE = 64  # analysis runs near this side length; pixel thresholds are given at this scale
_SQRT6, _SQRT2 = math.sqrt(6.0), math.sqrt(2.0)


def chroma(rgb: np.ndarray) -> np.ndarray:
    """Project RGB (last axis) onto the plane orthogonal to grey: (..., 2), same units as the input."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return np.stack(((2.0 * r - g - b) / _SQRT6, (g - b) / _SQRT2), axis=-1)


def hue_degrees(vectors: np.ndarray) -> np.ndarray:
    """Angle of chroma vectors in degrees, in [0, 360)."""
    return np.degrees(np.arctan2(vectors[..., 1], vectors[..., 0])) % 360.0


_PALETTE_CHROMA = chroma(np.array([COLORS[c] for c in COLOR_NAMES], dtype=np.float64))
PALETTE_HUES = hue_degrees(_PALETTE_CHROMA)
PALETTE_MAGNITUDES = np.linalg.norm(_PALETTE_CHROMA, axis=-1)


def hue_distance(a: np.ndarray | float, b: np.ndarray | float) -> np.ndarray:
    """Circular distance between hue angles in degrees."""
    d = np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)) % 360.0
    return np.minimum(d, 360.0 - d)


# -- input ------------------------------------------------------------------------------


def to_rgb255(frames: object) -> np.ndarray:
    """Frames as float32 ``(F, H, W, 3)`` in [0, 255].

    Accepts numpy or torch, uint8 or float in [0, 1], channels last ``(F, H, W, 3)`` or
    channels first ``(F, 3, H, W)``. Raises ``ValueError`` naming ``frames`` otherwise.
    """
    if type(frames).__module__.split(".")[0] == "torch":
        frames = frames.detach().cpu()
        frames = frames.numpy() if str(frames.dtype) == "torch.uint8" else frames.float().numpy()
    if not isinstance(frames, np.ndarray):
        raise ValueError(f"frames must be a numpy array or torch tensor, got {type(frames).__name__}")
    if frames.ndim != 4:
        raise ValueError(
            f"frames must have 4 dimensions (F, H, W, 3) or (F, 3, H, W), got shape {frames.shape}"
        )
    if frames.shape[-1] != 3 and frames.shape[1] == 3:
        frames = np.moveaxis(frames, 1, -1)
    n, h, w, c = frames.shape
    if c != 3:
        raise ValueError(f"frames must have 3 colour channels, got shape {frames.shape}")
    if n < 1 or h < 32 or w < 32:
        raise ValueError(
            f"frames must hold at least 1 frame of at least 32x32 pixels, got shape {frames.shape}"
        )
    if frames.dtype == np.uint8:
        return frames.astype(np.float32)
    if not np.issubdtype(frames.dtype, np.floating):
        raise ValueError(f"frames must be uint8 or float in [0, 1], got dtype {frames.dtype}")
    if not np.isfinite(frames).all():
        raise ValueError("frames must be finite: found NaN or infinity")
    low, high = float(frames.min()), float(frames.max())
    if low < -1e-3 or high > 1.0 + 1e-3:
        raise ValueError(f"float frames must lie in [0, 1], got values in [{low:.3f}, {high:.3f}]")
    return np.clip(frames.astype(np.float32), 0.0, 1.0) * 255.0


def to_work_resolution(rgb: np.ndarray) -> np.ndarray:
    """Block-average large frames down to about ``WORK_SIZE`` so analysis cost stays flat."""
    factor = min(rgb.shape[1:3]) // WORK_SIZE
    if factor < 2:
        return rgb
    n, h, w, _ = rgb.shape
    h2, w2 = h // factor, w // factor
    cropped = rgb[:, : h2 * factor, : w2 * factor]
    return cropped.reshape(n, h2, factor, w2, factor, 3).mean(axis=(2, 4), dtype=np.float32)
