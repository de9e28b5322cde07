"""Rewards by name. Entries are import paths, so listing or loading one reward never imports another's
(heavy) dependencies."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from .base import Reward

_REGISTRY: dict[str, str] = {
    "shapes-alignment": "t2v.rewards.shapes_alignment:ShapesAlignmentReward.from_pretrained",
    "shapes-motion": "t2v.rewards.shapes_alignment:ShapesMotionReward.from_pretrained",
    "question-score": "t2v.rewards.question_score:QuestionScoreReward",
    "clip-score": "t2v.rewards.clip_score:ClipScoreReward.from_pretrained",
    "pickscore": "t2v.rewards.pickscore:PickScoreReward.from_pretrained",
    "hpsv2": "t2v.rewards.hpsv2:HPSv2Reward.from_pretrained",
    "aesthetic": "t2v.rewards.aesthetic:AestheticReward.from_pretrained",
}
DEFAULT_REWARD = "shapes-alignment"


def register_reward(name: str, target: str | Callable[..., Reward]) -> None:
    """Register ``target`` (a factory, or its ``"module:attr"`` path) under ``name``; a name is taken once."""
    if not isinstance(name, str) or not name:
        raise ValueError("name must be a non-empty string")
    if name in _REGISTRY:
        raise ValueError(f"a reward named {name!r} is already registered")
    _REGISTRY[name] = target  # type: ignore[assignment]


def available_rewards() -> list[str]:
    return sorted(_REGISTRY)


def _resolve(target: str) -> Callable[..., Reward]:
    module_name, _, attr = target.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def load_reward(name: str, **kwargs: Any) -> Reward:
    """The reward registered as ``name``, built with ``kwargs`` (e.g. a weights path)."""
    if name not in _REGISTRY:
        raise ValueError(f"reward must be one of {available_rewards()}, got {name!r}")
    target = _REGISTRY[name]
    factory = _resolve(target) if isinstance(target, str) else target
    return factory(**kwargs)
