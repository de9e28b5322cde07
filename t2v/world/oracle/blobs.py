"""Per-frame coloured blobs of a shapes-world clip and their sub-pixel measurements.

Blobs are regions of one hue label whose chroma (background removed) is strong; each is
measured on its coverage map (chroma over full chroma), so areas, centroids and shape
moments are sub-pixel and survive blur.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .pixels import COLOR_NAMES, PALETTE_HUES, hue_degrees, hue_distance


@dataclass
class Blob:
    """One connected region of one colour label in one frame, before and after sub-pixel measurement.

    Coordinates are in working pixels (x right, y down, pixel centres at i + 0.5).
    """

    frame: int
    color_index: int
    mask: np.ndarray  # bool, the region inside its box
    top: int  # row and column of the mask's first pixel in the frame
    left: int
    pixels: int
    thickness: float  # depth of the deepest pixel, pixels (for blobs cut by the frame, inside the view)
    core_chroma: np.ndarray  # mean chroma vector of the innermost pixels
    x: float  # mask centroid
    y: float
    touches_border: bool
    # Filled by measure_blobs:
    area: float = 0.0  # coverage-weighted area, pixels
    cx: float = 0.0  # coverage-weighted centroid
    cy: float = 0.0
    square_moment: float = 0.0  # 4-fold moment: 0 for circles and triangles, -1/60 for squares
    triangle_moment: float = 0.0  # 3-fold moment: 0 for circles and squares, ~0.0675 for upright triangles
    near_other: bool = False  # within the halo of another blob (touching / occluding)
    coverage: np.ndarray | None = None  # the blob's coverage map around it, for model fits
    coverage_top: int = 0
    coverage_left: int = 0

    @property
    def hue(self) -> float:
        return float(hue_degrees(self.core_chroma))


_FRAME_ONLY = np.zeros((3, 3, 3), dtype=bool)
_FRAME_ONLY[1] = True  # 8-connectivity inside a frame, never across frames


def find_blobs(
    q: np.ndarray, *, object_chroma: float, min_pixels: float, min_thickness: float, seed_fraction: float
) -> list[Blob]:
    """Connected regions of each hue label whose chroma (background removed) exceeds ``object_chroma``.

    Thin or tiny regions are dropped: they are the mixed-colour seams where two differently
    coloured shapes touch, or noise specks, not objects. A region whose strong core (chroma
    above ``seed_fraction`` of its peak) falls apart into several pieces is split between
    them: blur bridges two nearby shapes of one colour, but not their cores.
    """
    magnitude = np.linalg.norm(q, axis=-1)
    foreground = magnitude > object_chroma
    labels = np.full(foreground.shape, -1, dtype=np.int8)
    fg_hue = hue_degrees(q[foreground])
    labels[foreground] = np.argmin(hue_distance(fg_hue[:, None], PALETTE_HUES), axis=-1)
    n, h, w = foreground.shape
    blobs: list[Blob] = []
    counts = np.bincount(labels[foreground], minlength=len(COLOR_NAMES))
    for ci in map(int, np.nonzero(counts >= min_pixels)[0]):
        mask = labels == ci
        comp, _ = ndimage.label(mask, structure=_FRAME_ONLY)
        for lab, box in enumerate(ndimage.find_objects(comp), start=1):
            if box is None:
                continue
            frame = box[0].start
            # Grow the box by a pixel so the region's outline sees its surroundings; where the box
            # meets the frame edge the outside counts as inside (shapes cut by the edge stay thick).
            r0, r1 = max(box[1].start - 1, 0), min(box[1].stop + 1, h)
            c0, c1 = max(box[2].start - 1, 0), min(box[2].stop + 1, w)
            local = comp[frame, r0:r1, c0:c1] == lab
            if local.sum() < min_pixels:
                continue
            for part in _split_cores(local, magnitude[frame, r0:r1, c0:c1], min_pixels, seed_fraction):
                blob = _make_blob(
                    part, q[frame, r0:r1, c0:c1], frame, ci, r0, c0, h, w, min_pixels, min_thickness
                )
                if blob is not None:
                    blobs.append(blob)
    return blobs


def _split_cores(region: np.ndarray, magnitude: np.ndarray, min_pixels: float, seed_fraction: float) -> list:
    """The region, or its pieces when it holds several cores (each pixel goes to the nearest core).

    Cores are the parts above ``seed_fraction`` of the region's peak chroma (blur bridges two
    nearby shapes of one colour, but not their cores) or, for shapes that touch, the parts
    deeper than half the region's largest depth: one convex shape has a single deep part, two
    touching ones have two joined by a shallow neck.
    """
    values = magnitude[region]
    k = int(0.9 * (len(values) - 1))
    peak = float(np.partition(values, k)[k])  # 90th percentile, robust to noise spikes
    cores = _pieces(region & (magnitude > seed_fraction * peak), min_pixels)
    if len(cores) < 2:
        depth = ndimage.distance_transform_edt(region)
        cores = _pieces(depth > 0.5 * depth.max(), min_pixels / 4.0)
    if len(cores) < 2:
        return [region]
    markers = np.zeros(region.shape, dtype=np.int32)
    for k, core in enumerate(cores, start=1):
        markers[core] = k
    _, (rows, cols) = ndimage.distance_transform_edt(markers == 0, return_indices=True)
    owner = markers[rows, cols]
    return [region & (owner == k) for k in range(1, len(cores) + 1)]


def _pieces(mask: np.ndarray, min_pixels: float) -> list[np.ndarray]:
    """Connected pieces of ``mask`` with at least ``min_pixels`` pixels."""
    labels, count = ndimage.label(mask, structure=np.ones((3, 3)))
    if count < 2:
        return [mask] if count == 1 else []
    sizes = ndimage.sum_labels(mask, labels, np.arange(1, count + 1))
    return [labels == k + 1 for k, size in enumerate(sizes) if size >= min_pixels]


def _make_blob(
    local: np.ndarray,
    q: np.ndarray,
    frame: int,
    color_index: int,
    r0: int,
    c0: int,
    h: int,
    w: int,
    min_pixels: float,
    min_thickness: float,
) -> Blob | None:
    """Measure one region (``local`` within the window at ``r0, c0``); None if it is a speck or a seam."""
    size = int(local.sum())
    if size < min_pixels:
        return None
    depth = ndimage.distance_transform_edt(local)  # the frame edge counts as inside: cut shapes stay thick
    if depth.max() < min_thickness:
        return None
    rows, cols = np.nonzero(local)
    border = bool(
        r0 + rows.min() == 0 or c0 + cols.min() == 0 or r0 + rows.max() == h - 1 or c0 + cols.max() == w - 1
    )
    if border:  # the core and the depth that measures saturation lie inside the visible part
        depth = ndimage.distance_transform_edt(np.pad(local, 1))[1:-1, 1:-1]
    thick = float(depth.max())
    inner = depth[rows, cols] >= max(1.0, thick - 1.0)
    core = q[rows[inner], cols[inner]].mean(axis=0)
    return Blob(
        frame,
        color_index,
        local,
        r0,
        c0,
        size,
        thick,
        core,
        float(cols.mean() + c0 + 0.5),
        float(rows.mean() + r0 + 0.5),
        border,
    )


def measure_blobs(
    q: np.ndarray,
    blobs: list[Blob],
    colors: dict[int, np.ndarray],
    *,
    min_halo: float,
    max_halo: float,
    ring_floor: float,
    touch: float,
    keep_coverage: bool = True,
) -> float:
    """Sub-pixel measurements of every blob of every frame, from coverage maps; returns the halo used.

    ``colors[i]`` is blob ``i``'s full-coverage chroma vector. Pixels within the halo of a blob
    count towards its coverage; where two differently coloured halos meet, the pixel's chroma
    is unmixed into both coverages (two unknowns, two chroma channels), so touching shapes keep
    their own area. The halo adapts to the clip's blur: it reaches out, between ``min_halo``
    and ``max_halo`` pixels, until the mean coverage of a one-pixel ring around the blobs drops
    below ``ring_floor``, so the area and the blur-invariant moments see the whole spread-out
    mass. A blob whose region comes within ``touch`` of another is flagged ``near_other``.
    With ``keep_coverage`` each blob keeps its coverage map for shape-model fits.
    """
    n, h, w, _ = q.shape
    pad = int(math.ceil(max_halo)) + 1
    by_frame: dict[int, list[int]] = {}
    for i, blob in enumerate(blobs):
        by_frame.setdefault(blob.frame, []).append(i)
    rings = int(math.ceil(max_halo))
    ring_mass, ring_count = np.zeros(rings), np.zeros(rings)
    windows = []
    for frame, ids in by_frame.items():
        top = max(min(blobs[i].top for i in ids) - pad, 0)
        left = max(min(blobs[i].left for i in ids) - pad, 0)
        bottom = min(max(blobs[i].top + blobs[i].mask.shape[0] for i in ids) + pad, h)
        right = min(max(blobs[i].left + blobs[i].mask.shape[1] for i in ids) + pad, w)
        masks = np.zeros((len(ids), bottom - top, right - left), dtype=bool)
        for k, i in enumerate(ids):
            b = blobs[i]
            r, c = b.top - top, b.left - left
            masks[k, r : r + b.mask.shape[0], c : c + b.mask.shape[1]] = b.mask
        dist = np.stack([ndimage.distance_transform_edt(~m) for m in masks])
        qf = q[frame, top:bottom, left:right].astype(np.float64)
        alpha = _coverage(
            qf,
            dist,
            np.stack([colors[i] for i in ids]),
            np.array([blobs[i].color_index for i in ids]),
            max_halo,
        )
        nearest = dist.min(axis=0)
        ring = np.ceil(nearest).astype(np.int64) - 1  # ring 0 holds distances in (0, 1]
        outside = (ring >= 0) & (ring < rings)
        ring_mass += np.bincount(ring[outside], weights=alpha.sum(axis=0)[outside], minlength=rings)
        ring_count += np.bincount(ring[outside], minlength=rings)
        for k, i in enumerate(ids):
            if len(ids) > 1:
                others = np.delete(dist, k, axis=0).min(axis=0)
                blobs[i].near_other = bool(np.any(masks[k] & (others <= touch)))
        windows.append((ids, alpha, nearest, top, bottom, left, right))
    mean = ring_mass / np.maximum(ring_count, 1)
    faint = np.nonzero((mean < ring_floor) & (np.arange(1, rings + 1) >= min_halo))[0]
    halo = float(min(faint[0] + 1, max_halo)) if len(faint) else float(max_halo)
    for ids, alpha, nearest, top, bottom, left, right in windows:
        ys, xs = np.mgrid[top:bottom, left:right].astype(np.float64) + 0.5
        alpha[:, nearest > halo] = 0.0
        for k, i in enumerate(ids):
            _moments(blobs[i], alpha[k], xs, ys)
            if keep_coverage:
                rows, cols = np.nonzero(alpha[k])
                if len(rows):
                    r0, c0 = rows.min(), cols.min()
                    blobs[i].coverage = alpha[k][r0 : rows.max() + 1, c0 : cols.max() + 1].copy()
                    blobs[i].coverage_top, blobs[i].coverage_left = top + int(r0), left + int(c0)
    return halo


def _coverage(
    q: np.ndarray, dist: np.ndarray, colors: np.ndarray, labels: np.ndarray, halo: float
) -> np.ndarray:
    """Coverage of each of k blobs over a window: q (H, W, 2), dist (k, H, W), colors (k, 2)."""
    k = len(colors)
    first = np.argmin(dist, axis=0)
    d1 = np.take_along_axis(dist, first[None], axis=0)[0]
    in_halo = d1 <= halo
    c1 = colors[first]
    alpha = np.zeros(dist.shape)
    a1 = np.einsum("hwc,hwc->hw", q, c1) / np.einsum("hwc,hwc->hw", c1, c1)
    if k > 1:
        masked = dist.copy()
        np.put_along_axis(masked, first[None], np.inf, axis=0)
        second = np.argmin(masked, axis=0)
        d2 = np.take_along_axis(masked, second[None], axis=0)[0]
        c2 = colors[second]
        det = c1[..., 0] * c2[..., 1] - c1[..., 1] * c2[..., 0]
        unmix = in_halo & (d2 <= halo) & (labels[first] != labels[second])
        unmix &= np.abs(det) > 1e-3 * np.einsum("hwc,hwc->hw", c1, c1)
        safe = np.where(unmix, det, 1.0)
        u1 = (q[..., 0] * c2[..., 1] - q[..., 1] * c2[..., 0]) / safe
        u2 = (c1[..., 0] * q[..., 1] - c1[..., 1] * q[..., 0]) / safe
        a1 = np.where(unmix, u1, a1)
        for j in range(k):
            sel = unmix & (second == j)
            alpha[j][sel] = np.clip(u2[sel], -0.3, 1.3)
    for j in range(k):
        sel = in_halo & (first == j)
        alpha[j][sel] = np.clip(a1[sel], -0.3, 1.3)
    return alpha


def _moments(blob: Blob, alpha: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> None:
    """Area, centroid and blur-invariant shape moments of one coverage map.

    Gaussian blur leaves the area, the centroid, the third central moments and the 4-fold
    combination x⁴ − 6x²y² + y⁴ unchanged, so these features survive soft video.
    """
    sel = alpha != 0.0
    a = alpha[sel]
    area = float(a.sum())
    blob.area = area
    if area <= 1e-6:
        blob.cx, blob.cy = blob.x, blob.y
        return
    x, y = xs[sel], ys[sel]
    cx, cy = float((a * x).sum() / area), float((a * y).sum() / area)
    blob.cx, blob.cy = cx, cy
    dx, dy = x - cx, y - cy
    dx2, dy2 = dx * dx, dy * dy
    blob.square_moment = float((a * (dx2 * dx2 - 6.0 * dx2 * dy2 + dy2 * dy2)).sum() / area**3)
    blob.triangle_moment = float((a * (3.0 * dx2 * dy - dy2 * dy)).sum() / area**2.5)
