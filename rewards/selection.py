"""Using a reward without gradients: keep the best of N candidates, or filter a set by reward."""

from __future__ import annotations

import torch

from .base import Reward


def video_scores(reward: Reward, videos: torch.Tensor, prompts: list[str]) -> torch.Tensor:
    """One score per video ``(B,)``: per-frame rewards are averaged over frames."""
    with torch.no_grad():
        scores = reward(videos, prompts)
    return scores.mean(dim=1) if reward.per_frame else scores


def best_of_n(reward: Reward, candidates: torch.Tensor, prompt: str) -> tuple[int, torch.Tensor]:
    """Index of the best of ``candidates`` ``(N, F, 3, H, W)`` for ``prompt`` and every candidate's score."""
    if candidates.ndim != 5 or len(candidates) < 1:
        raise ValueError(f"candidates must be (N, frames, 3, H, W) with N >= 1, got {tuple(candidates.shape)}")
    scores = video_scores(reward, candidates, [prompt] * len(candidates))
    return int(scores.argmax()), scores


def reward_filter(reward: Reward, videos: torch.Tensor, prompts: list[str], *, keep: float) -> list[int]:
    """Indices of the top ``keep`` share of ``videos`` by reward (at least one), best first: reward-weighted
    filtering of a generated set before fine-tuning on it."""
    if not 0.0 < keep <= 1.0:
        raise ValueError(f"keep must be in (0, 1], got {keep}")
    scores = video_scores(reward, videos, prompts)
    count = max(1, round(keep * len(scores)))
    return scores.argsort(descending=True)[:count].tolist()
