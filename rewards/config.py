"""Reward fine-tuning's configuration: one dataclass, help on every field, read from YAML or JSON and
overridden from the command line."""

from __future__ import annotations

import argparse
import json
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from t2v.training.common import LR_SCHEDULES

from .registry import available_rewards

UNET_LORA_BLOCKS = ("spatial", "temporal", "spatial+temporal")
OBJECTIVES = ("editing", "x0")
WAN_LORA_PARTS = ("self", "cross", "ffn")


def wan_lora_parts(blocks: str) -> list[str] | None:
    """``lora_blocks`` read as Wan's parts (self, cross, ffn joined by '+'; ``spatial+temporal`` is self+cross,
    since Wan's attention is joint spatio-temporal), or None when it is not a Wan value."""
    parts = blocks.replace("spatial+temporal", "self+cross").split("+")
    if len(set(parts)) != len(parts) or not set(parts) <= set(WAN_LORA_PARTS):
        return None
    return parts


def _opt(default: Any, help: str) -> Any:  # noqa: A002 - argparse's word
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata={"help": help})
    return field(default=default, metadata={"help": help})


@dataclass
class FinetuneConfig:
    """Defaults follow InstructVideo (LoRA rank 4 on spatial and temporal q/k/v/out, noise to 0.6 of a 20-step
    DDIM schedule, gradient through the final step, 4 segments, λ = 1) with a learning rate for a small model."""

    model: str = _opt("tiny-shapes", "model name or diffusers folder to fine-tune")
    output_dir: str = _opt("runs/reward-lora", "where the LoRA, checkpoints, log and plot go")
    reward: str = _opt("shapes-alignment", "registered reward name (t2v.rewards.available_rewards())")
    reward_path: str | None = _opt(None, "weights folder of the reward (default: the reward's own)")
    video_reward: str | None = _opt(None, "a registered per-video reward (e.g. shapes-motion) added to the shaped "
                                          "per-frame reward; it sees every decoded frame in order")
    video_reward_weight: float = _opt(1.0, "weight of video_reward in the maximised sum")
    video_reward_path: str | None = _opt(None, "weights folder of video_reward (default: its own; shapes-motion reads "
                                               "the shapes-alignment network)")
    prompts: str = _opt("shapes-train", "training prompts: shapes-train or a text file, one prompt a line")
    num_prompts: int = _opt(2000, "size of the training prompt pool (shuffled every epoch)")
    video_source: str = _opt("model", "videos to edit: 'model' (sampled by the model being tuned) or 'data'")
    data_file: str | None = _opt(None, "with video_source=data: safetensors of uint8 'clips' (N,F,H,W,3) and "
                                       "their prompts in the metadata key 'prompts' (a JSON list)")
    validation_prompts: str = _opt("shapes-dev", "validation prompts: shapes-dev or a text file")
    num_validation_prompts: int = _opt(16, "validation prompts generated and judged at each validation")
    validation_judge: str = _opt("t2v.eval.judge:EvaluatorJudge",
                                 "'module:callable' building a judge(frames, prompt) -> score; '' for none")
    validation_every: int = _opt(50, "steps between validations (and at the last step)")
    steps: int = _opt(300, "optimiser steps")
    batch_size: int = _opt(2, "videos per process per micro-batch")
    gradient_accumulation: int = _opt(1, "micro-batches per optimiser step")
    learning_rate: float = _opt(2e-4, "peak AdamW learning rate")
    warmup_steps: int = _opt(10, "linear warm-up steps before the cosine decay")
    lr_schedule: str = _opt("cosine", "after the warm-up: 'cosine' (decay to a tenth of the peak) or 'constant'")
    weight_decay: float = _opt(1e-2, "AdamW weight decay")
    max_grad_norm: float = _opt(1.0, "gradient clipping norm")
    lora_rank: int = _opt(4, "LoRA rank")
    lora_alpha: float = _opt(4.0, "LoRA alpha (the update is scaled by alpha / rank)")
    lora_targets: list = _opt(["to_q", "to_k", "to_v", "to_out.0"], "attention projections given a LoRA")
    lora_blocks: str = _opt("spatial+temporal", "which layers: spatial, temporal or spatial+temporal attentions on "
                                                "AnimateDiff; self, cross, ffn joined by '+' on Wan (spatial+temporal "
                                                "= self+cross there)")
    num_inference_steps: int = _opt(20, "DDIM steps of the full schedule")
    objective: str = _opt("editing", "'editing': noise to s, denoise the remaining steps with a graph through the "
                                     "last j (InstructVideo); 'x0': noise to a level drawn from [s, 1] of the "
                                     "schedule, one guided model call, its predicted clean video is rewarded "
                                     "(reaches the noisy steps where layout and motion are decided; AnimateDiff)")
    noise_fraction: float = _opt(0.6, "s: the video is noised to this fraction of the schedule, then denoised "
                                      "(objective x0: the least noise drawn)")
    grad_steps: int = _opt(1, "j: denoising steps at the end that keep a graph (earlier ones run without)")
    source_steps: int = _opt(4, "DDIM steps that sample the video to edit (video_source=model); the noise added "
                                "after washes out the detail more steps would give")
    guidance_scale: float | None = _opt(None, "classifier-free guidance while denoising (default: the model's)")
    segments: int = _opt(4, "K: segments of the clip, one random frame scored from each (0: every frame)")
    attenuation: float = _opt(1.0, "λ of the temporal weights exp(-λ·|i − F/2|)")
    gradient_checkpointing: bool = _opt(False, "recompute UNet activations in backward to save memory")
    mixed_precision: str = _opt("no", "no, fp16 or bf16 (accelerate's mixed precision, where the device allows)")
    checkpoint_every: int = _opt(25, "steps between resumable checkpoints")
    log_every: int = _opt(5, "steps between log lines")
    seed: int = _opt(0, "seed of the prompt order, noise and frame sampling")

    def __post_init__(self) -> None:
        positive = ("num_prompts", "num_validation_prompts", "validation_every", "steps", "batch_size",
                    "gradient_accumulation", "lora_rank", "num_inference_steps", "grad_steps", "source_steps",
                    "checkpoint_every", "log_every")
        for name in positive:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if not 0.0 < self.noise_fraction <= 1.0:
            raise ValueError(f"noise_fraction must be in (0, 1], got {self.noise_fraction}")
        remaining = round(self.noise_fraction * self.num_inference_steps)
        if remaining < 1:
            raise ValueError(f"noise_fraction × num_inference_steps must leave at least one denoising step, got "
                             f"{self.noise_fraction} × {self.num_inference_steps}")
        if not 1 <= self.grad_steps <= remaining:
            raise ValueError(f"grad_steps must be in [1, {remaining}] (the steps after the noise fraction), "
                             f"got {self.grad_steps}")
        if self.video_reward == "":
            self.video_reward = None  # '' on the command line turns off a config file's video reward
        for name in ("reward", "video_reward"):
            value = getattr(self, name)
            if value is not None and value not in available_rewards():
                raise ValueError(f"{name} must be one of {available_rewards()}, got {value!r}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"lr_schedule must be one of {LR_SCHEDULES}, got {self.lr_schedule!r}")
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, got {self.objective!r}")
        if self.video_reward_weight < 0:
            raise ValueError(f"video_reward_weight must be >= 0, got {self.video_reward_weight}")
        if self.video_source not in ("model", "data"):
            raise ValueError(f"video_source must be 'model' or 'data', got {self.video_source!r}")
        if self.video_source == "data" and not self.data_file:
            raise ValueError("data_file is needed when video_source is 'data'")
        if not isinstance(self.lora_blocks, str) or (self.lora_blocks not in UNET_LORA_BLOCKS
                                                     and wan_lora_parts(self.lora_blocks) is None):
            raise ValueError(f"lora_blocks must be spatial, temporal or spatial+temporal (AnimateDiff), or self, "
                             f"cross and ffn joined by '+' (Wan), got {self.lora_blocks!r}")
        if not self.lora_targets or not all(isinstance(t, str) for t in self.lora_targets):
            raise ValueError(f"lora_targets must be a non-empty list of module names, got {self.lora_targets!r}")
        if self.learning_rate <= 0:
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate}")
        if self.mixed_precision not in ("no", "fp16", "bf16"):
            raise ValueError(f"mixed_precision must be no, fp16 or bf16, got {self.mixed_precision!r}")
        if self.segments < 0 or self.attenuation < 0:
            raise ValueError("segments and attenuation must be >= 0")

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)


def _parse_bool(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def config_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    """``--config FILE`` plus one ``--field`` option per config field (dashes or underscores)."""
    parser = parser or argparse.ArgumentParser(description="Reward fine-tuning of a video model as LoRA")
    parser.add_argument("--config", help="YAML or JSON file of config fields; options given here override it")
    for f in fields(FinetuneConfig):
        default = f.default if f.default is not MISSING else f.default_factory()  # type: ignore[misc]
        kwargs: dict[str, Any] = {"default": None, "help": f"{f.metadata['help']} (default: {default!r})"}
        if isinstance(default, bool):
            kwargs["type"] = _parse_bool
        elif isinstance(default, list):
            kwargs["nargs"] = "+"
        elif isinstance(default, (int, float)) and not isinstance(default, bool):
            kwargs["type"] = type(default)
        elif f.name == "guidance_scale":
            kwargs["type"] = float
        names = [f"--{f.name}"] + ([f"--{f.name.replace('_', '-')}"] if "_" in f.name else [])
        parser.add_argument(*names, dest=f.name, **kwargs)
    return parser


def read_config_file(path: str) -> dict[str, Any]:
    file = Path(path)
    if not file.is_file():
        raise ValueError(f"--config: no file {path}")
    text = file.read_text()
    if file.suffix in (".yaml", ".yml"):
        import yaml

        data = yaml.safe_load(text) or {}
    else:
        data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"--config: {path} must hold a mapping of config fields")
    known = {f.name for f in fields(FinetuneConfig)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"--config: unknown fields {unknown} in {path}")
    return data


def config_from_args(args: argparse.Namespace) -> FinetuneConfig:
    values = read_config_file(args.config) if args.config else {}
    for f in fields(FinetuneConfig):
        given = getattr(args, f.name, None)
        if given is not None:
            values[f.name] = given
    return FinetuneConfig(**values)
