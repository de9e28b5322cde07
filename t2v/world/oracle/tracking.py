"""Link per-frame blobs into object tracks.

Frame to frame, tracks are matched to blobs by an optimal assignment on predicted position,
gated by distance and colour; broken tracks are re-joined, short-lived ones (flicker,
spurious blobs) dropped, and blobs that hold two same-coloured objects at once flagged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from .blobs import Blob
from .pixels import hue_distance

_UNLINKABLE = 1e6


@dataclass
class _Open:
    blobs: dict[int, int] = field(default_factory=dict)  # frame -> blob index
    x: float = 0.0
    y: float = 0.0
    vx: float = 0.0
    vy: float = 0.0
    last: int = 0
    color_index: int = 0
    hue: float = 0.0


def _compatible(blob: Blob, color_index: int, hue: float, hue_tolerance: float) -> bool:
    return blob.color_index == color_index or float(hue_distance(blob.hue, hue)) <= hue_tolerance


def _link_cost(
    track: _Open, blob: Blob, frame: int, side: float, max_step: float, hue_tolerance: float
) -> float:
    if not _compatible(blob, track.color_index, track.hue, hue_tolerance):
        return _UNLINKABLE
    gap = frame - track.last
    px, py = track.x + track.vx * gap, track.y + track.vy * gap
    dist = math.hypot(blob.x - px, blob.y - py) / side
    if dist > max_step * (1.0 + 0.5 * (gap - 1)):
        return _UNLINKABLE
    colour_penalty = 0.0 if blob.color_index == track.color_index else 0.1
    return dist + 0.02 * (gap - 1) + colour_penalty


def link_blobs(
    blobs: list[Blob], n_frames: int, side: float, *, max_step: float, hue_tolerance: float, min_frames: int
) -> tuple[list[dict[int, int]], set[int]]:
    """Tracks as ``{frame: blob index}`` maps, and the indices of blobs shared by two tracks.

    ``max_step`` is the largest plausible move between frames as a fraction of ``side``.
    """
    by_frame: list[list[int]] = [[] for _ in range(n_frames)]
    for i, blob in enumerate(blobs):
        by_frame[blob.frame].append(i)
    tracks: list[_Open] = []
    for frame in range(n_frames):
        ids = by_frame[frame]
        matched: set[int] = set()
        if tracks and ids:
            cost = np.array(
                [[_link_cost(t, blobs[i], frame, side, max_step, hue_tolerance) for i in ids] for t in tracks]
            )
            rows, cols = linear_sum_assignment(cost)
            for r, c in zip(rows, cols, strict=True):
                if cost[r, c] >= _UNLINKABLE:
                    continue
                _extend(tracks[r], blobs[ids[c]], ids[c], frame)
                matched.add(ids[c])
        for i in ids:
            if i not in matched:
                blob = blobs[i]
                tracks.append(_Open({frame: i}, blob.x, blob.y, 0.0, 0.0, frame, blob.color_index, blob.hue))
    tracks = _rejoin(tracks, blobs, side, max_step, hue_tolerance)
    kept = [t.blobs for t in tracks if len(t.blobs) >= min_frames]
    return kept, _shared_blobs(kept, blobs, side)


def _extend(track: _Open, blob: Blob, index: int, frame: int) -> None:
    gap = frame - track.last
    track.vx, track.vy = (blob.x - track.x) / gap, (blob.y - track.y) / gap
    track.x, track.y, track.last = blob.x, blob.y, frame
    track.blobs[frame] = index


def _rejoin(
    tracks: list[_Open], blobs: list[Blob], side: float, max_step: float, hue_tolerance: float
) -> list[_Open]:
    """Join a track that ends to one that starts later nearby: one object lost for a few frames."""
    tracks = sorted(tracks, key=lambda t: min(t.blobs))
    joined = True
    while joined:
        joined = False
        best: tuple[float, int, int] | None = None
        for a, early in enumerate(tracks):
            for b, late in enumerate(tracks):
                start = min(late.blobs)
                if a == b or start <= early.last:
                    continue
                cost = _link_cost(early, blobs[late.blobs[start]], start, side, max_step, hue_tolerance)
                if cost < _UNLINKABLE and (best is None or cost < best[0]):
                    best = (cost, a, b)
        if best is not None:
            _, a, b = best
            early, late = tracks[a], tracks[b]
            early.blobs.update(late.blobs)
            early.x, early.y, early.vx, early.vy, early.last = late.x, late.y, late.vx, late.vy, late.last
            del tracks[b]
            joined = True
    return tracks


def _interpolate(track: dict[int, int], blobs: list[Blob], frame: int) -> tuple[float, float]:
    frames = sorted(track)
    xs = [blobs[track[f]].x for f in frames]
    ys = [blobs[track[f]].y for f in frames]
    return float(np.interp(frame, frames, xs)), float(np.interp(frame, frames, ys))


def _shared_blobs(tracks: list[dict[int, int]], blobs: list[Blob], side: float) -> set[int]:
    """Blobs that also stand for another same-coloured track missing in that frame (merged shapes)."""
    shared: set[int] = set()
    owner = {i: k for k, track in enumerate(tracks) for i in track.values()}
    for k, track in enumerate(tracks):
        for frame in range(min(track), max(track) + 1):
            if frame in track:
                continue
            x, y = _interpolate(track, blobs, frame)
            color = blobs[next(iter(track.values()))].color_index
            for i, blob in enumerate(blobs):
                if blob.frame == frame and blob.color_index == color and owner.get(i, k) != k:
                    if math.hypot(blob.x - x, blob.y - y) / side < 0.25:
                        shared.add(i)
    return shared
