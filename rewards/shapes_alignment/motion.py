"""``shapes-motion``: does each object of a shapes-world prompt move the way the prompt says?

A video reward (one score per clip, differentiable) that reads the same soft colour masks as ``shapes-alignment``
(the same network and weights) on every frame, in order, and follows each prompt object's colour: the centre
of its mask gives the path, the square root of its area the scale. What the prompt's motion word means comes
from the world's own geometry (:mod:`t2v.world.spec`): a translation covers ``TRAVEL`` of the frame, a bounce
rises ``BOUNCE_HEIGHT`` above where it starts and ends, a grow or shrink changes the scale over ``GROW_RANGE``;
half of each is taken as done, the line where the motion reads as that motion rather than as staying still.
The score is the mean over objects of the log-probability that the measured travel, rise or growth clears that
line (a logistic of the margin), floored like ``shapes-alignment``'s checks (``CHECK_FLOOR``).

Why a separate reward: ``shapes-alignment`` scores single frames, so InstructVideo's segment sampling and
temporal weights apply to it; a motion needs the frames in order. The trainer adds it, weighted, to the shaped
per-frame reward (``video_reward`` in :class:`~t2v.rewards.config.FinetuneConfig`). Objects that share a colour
cannot be told apart by colour masks and are not judged; a prompt with no judgeable object scores 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from t2v.world.spec import BOUNCE_HEIGHT, GROW_RANGE, TRANSLATIONS, TRAVEL, WorldSpec

from .network import CHECK_FLOOR, soft_centroids
from .reward import PASS_LOG_PROB, ShapesNetworkReward
from .targets import COLOR_NAMES

DONE_FRACTION = 0.5  # half the world's travel, rise or growth reads as the motion
POSITION_SCALE = 0.03  # logistic softness of travel and rise, frame fractions
GROWTH_SCALE = 0.08  # logistic softness of the relative scale change
# The highest point of a bounce is a smooth minimum of the path, so every frame near the top gets gradient; it
# reads the top up to this much too high (a still object "rises" at most this: 0.042 is a temperature of 0.02 at
# 8 frames), against the 0.14 a bounce must clear. (A hard minimum, gradient to one frame, did worse on dev.)
SOFT_MIN_BIAS = 0.02 * math.log(8)


@dataclass(frozen=True)
class MotionTarget:
    """One judged object: its colour's mask channel and the motion the prompt gives it."""

    channel: int
    motion: str


def motion_targets(spec: WorldSpec) -> list[MotionTarget]:
    """The objects of ``spec`` whose colour no other object shares."""
    colours = [o.color for o in spec.objects]
    return [MotionTarget(COLOR_NAMES.index(o.color), o.motion) for o in spec.objects if colours.count(o.color) == 1]


def slope(times: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """Least-squares slope of ``values`` over ``times`` (last dimension): change over the whole clip."""
    centred = times - times.mean()
    return ((values - values.mean(dim=-1, keepdim=True)) * centred).sum(dim=-1) / centred.square().sum()


def motion_log_prob(path: torch.Tensor, scale: torch.Tensor, motion: str) -> torch.Tensor:
    """log P(the track shows ``motion``) from a path ``(F, 2)`` of (x, y) frame fractions and a scale ``(F,)``."""
    times = torch.linspace(0.0, 1.0, len(path), dtype=path.dtype, device=path.device)
    dx, dy = slope(times, path[:, 0]), slope(times, path[:, 1])
    ys = path[:, 1]
    temperature = SOFT_MIN_BIAS / math.log(len(ys))  # the smooth minimum sits at most SOFT_MIN_BIAS below the true one
    rise = torch.minimum(ys[0], ys[-1]) + temperature * torch.logsumexp(-ys / temperature, dim=0)
    growth = slope(times, scale) / scale.mean().clamp_min(1e-3)
    travel_line, rise_line = DONE_FRACTION * TRAVEL, DONE_FRACTION * BOUNCE_HEIGHT
    growth_line = DONE_FRACTION * (GROW_RANGE[1] - GROW_RANGE[0])
    if motion in TRANSLATIONS:
        sx, sy = TRANSLATIONS[motion]
        return F.logsigmoid((dx * sx + dy * sy - travel_line) / POSITION_SCALE)
    if motion == "bounce":
        return F.logsigmoid((rise - rise_line) / POSITION_SCALE)
    if motion in ("grow", "shrink"):
        sign = 1.0 if motion == "grow" else -1.0
        return F.logsigmoid((sign * growth - growth_line) / GROWTH_SCALE)
    if motion != "still":
        raise ValueError(f"motion must be one of the world's motion words, got {motion!r}")
    travel = torch.maximum(dx.abs(), dy.abs())  # still: neither travels, bounces nor changes scale
    return (F.logsigmoid((travel_line - travel) / POSITION_SCALE) + F.logsigmoid((rise_line - rise) / POSITION_SCALE)
            + F.logsigmoid((growth_line - growth.abs()) / GROWTH_SCALE))


class ShapesMotionReward(ShapesNetworkReward):
    name = "shapes-motion"
    per_frame = False
    differentiable = True

    def asked(self, spec: WorldSpec) -> list[MotionTarget]:
        return motion_targets(spec)

    def object_log_probs(self, frames: torch.Tensor, prompts: list[str]) -> list[list[torch.Tensor]]:
        """Per video, each judged object's motion log-probability (floored)."""
        b, f = frames.shape[:2]
        if f < 2:
            raise ValueError(f"frames: a motion needs at least 2 frames in order, got {f}")
        masks = self.read(frames)["masks"]
        paths = soft_centroids(masks).reshape(b, f, len(COLOR_NAMES), 2)
        scales = masks.mean(dim=(2, 3)).clamp_min(1e-6).sqrt().reshape(b, f, len(COLOR_NAMES))
        return [[motion_log_prob(paths[i, :, t.channel], scales[i, :, t.channel], t.motion).clamp_min(CHECK_FLOOR)
                 for t in self.asked_by(prompt)] for i, prompt in enumerate(prompts)]

    def score(self, frames: torch.Tensor, prompts: list[str]) -> torch.Tensor:
        """The mean over judged objects (0 for a prompt with none)."""
        per_object = self.object_log_probs(frames, prompts)
        zero = frames.new_zeros(())
        return torch.stack([torch.stack(lps).mean().to(zero) if lps else zero for lps in per_object])

    @torch.no_grad()
    def verdict(self, frames: torch.Tensor, prompts: list[str]) -> torch.Tensor:
        """Per video: is every judged object's motion above even odds? The reward's yes/no, to compare with the
        oracle's (a prompt with no judged object passes)."""
        return torch.tensor([all(float(lp) > PASS_LOG_PROB for lp in lps)
                             for lps in self.object_log_probs(frames, prompts)])
