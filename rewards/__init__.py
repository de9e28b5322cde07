"""t2v.rewards: reward models behind one interface, InstructVideo's video reward shaping, and reward
fine-tuning (:mod:`t2v.rewards.train`)."""

from .base import Reward, frames_from_uint8, frames_to_uint8
from .registry import DEFAULT_REWARD, available_rewards, load_reward, register_reward
from .shaping import ShapingConfig, attenuation_weights, segment_frames, shape_video_reward

__all__ = [
    "DEFAULT_REWARD",
    "Reward",
    "ShapingConfig",
    "attenuation_weights",
    "available_rewards",
    "frames_from_uint8",
    "frames_to_uint8",
    "load_reward",
    "register_reward",
    "segment_frames",
    "shape_video_reward",
]
