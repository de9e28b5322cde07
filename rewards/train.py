"""Reward fine-tuning recast as editing (InstructVideo), as a LoRA, under ``accelerate launch``.

Each step takes a video (sampled by the model being tuned, or a data clip), noises it to a fraction ``s`` of
the DDIM schedule, denoises the remaining steps with classifier-free guidance — without a graph until the
last ``j`` steps — decodes one random frame of each of K segments and maximises their temporally attenuated
reward, plus a weighted video reward of the whole clip when the config names one. Only the LoRA trains;
nothing before the cut keeps activations, so memory does not grow with ``s``. ``objective: x0`` does the
remaining steps as one DDIM jump from a noise level drawn in [s, 1]: one model call with a graph, and it
reaches the noisy steps where layout and motion are decided.

    accelerate launch -m t2v.rewards.train --config configs/tiny_shapes_alignment.yaml [--steps 100 ...]

The validation judge is named by the config (``validation_judge``, a ``module:callable``); this module never
builds one itself. Checkpoints are safetensors and JSON (:mod:`t2v.training.checkpoint`): every random draw of
a step is seeded from (seed, step, process), so a resumed run continues exactly where the last checkpoint was.
"""

from __future__ import annotations

import importlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from t2v.training.checkpoint import find_state, load_state, save_state
from t2v.training.common import lr_at

from .base import Reward, frames_from_uint8
from .config import FinetuneConfig, config_from_args, config_parser
from .lora import LoraState, add_lora, add_wan_lora, save_lora, save_wan_lora, wan_experts, wan_lora_states
from .prompts import load_prompts
from .registry import load_reward
from .shaping import segment_frames, shape_video_reward

logger = logging.getLogger(__name__)
LOG_FILE, PLOT_FILE, LORA_DIR, CHECKPOINT_DIR = "log.jsonl", "curves.png", "lora", "checkpoint"


def step_generator(seed: int, step: int, process: int) -> torch.Generator:
    """The one source of randomness of a step: a function of where the run is, so resume needs no RNG state."""
    return torch.Generator().manual_seed((seed * 1_000_003 + step) * 97 + process)


def prompt_order(num: int, seed: int, epoch: int) -> torch.Tensor:
    """The shuffled order of the prompt pool in ``epoch`` (a new order every epoch)."""
    return torch.randperm(num, generator=torch.Generator().manual_seed(seed * 7919 + epoch))


def batch_prompt_indices(step: int, micro: int, cfg: FinetuneConfig, num_prompts: int, process: int,
                         processes: int) -> list[int]:
    """Indices into the prompt pool for one micro-batch: consecutive positions of the shuffled stream, split
    between processes, so the data position follows from the step."""
    per_step = cfg.batch_size * cfg.gradient_accumulation * processes
    start = step * per_step + (micro * processes + process) * cfg.batch_size
    out = []
    for position in range(start, start + cfg.batch_size):
        epoch, offset = divmod(position, num_prompts)
        out.append(int(prompt_order(num_prompts, cfg.seed, epoch)[offset]))
    return out


def reward_for(cfg: FinetuneConfig) -> Reward:
    """The config's reward, from its own weights folder when the config names one."""
    return load_reward(cfg.reward, **({"path": cfg.reward_path} if cfg.reward_path else {}))


def video_reward_for(cfg: FinetuneConfig) -> Reward | None:
    """The config's per-video reward (None when it names none); refused unless differentiable and per video."""
    if not cfg.video_reward:
        return None
    reward = load_reward(cfg.video_reward, **({"path": cfg.video_reward_path} if cfg.video_reward_path else {}))
    if reward.per_frame or not reward.differentiable:
        raise ValueError(f"video_reward {cfg.video_reward!r} must score whole videos differentiably "
                         f"(per_frame={reward.per_frame}, differentiable={reward.differentiable})")
    return reward


def combined_reward(cfg: FinetuneConfig, reward: Reward, video_reward: Reward | None, sampled: torch.Tensor,
                    picked: torch.Tensor, frames: int, prompts: list[str], whole: torch.Tensor | None) -> torch.Tensor:
    """Per video: the per-frame reward of the ``sampled`` frames (at indices ``picked`` of ``frames``), weighed
    in time, plus the weighted video reward of the ``whole`` clip when there is one."""
    per_video = shape_video_reward(reward(sampled, prompts), picked, frames, cfg.attenuation)
    if video_reward is None:
        return per_video
    return per_video + cfg.video_reward_weight * video_reward(whole, prompts).to(per_video)


def predicted_clean(scheduler, noisy: torch.Tensor, model_output: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """The clean sample a model output implies at timestep ``t``, for the ``alphas_cumprod`` schedulers
    (DDIM, DDPM, Euler's training schedule) under epsilon, v or sample prediction."""
    kind = scheduler.config.get("prediction_type")
    alphas = getattr(scheduler, "alphas_cumprod", None)
    if alphas is None or kind not in ("epsilon", "v_prediction", "sample"):
        raise ValueError(f"objective 'x0' needs a scheduler with alphas_cumprod and epsilon, v or sample prediction, "
                         f"got {type(scheduler).__name__} ({kind})")
    if kind == "sample":
        return model_output
    a = alphas.to(noisy)[t.long()].reshape(-1, *([1] * (noisy.ndim - 1)))
    if kind == "epsilon":
        return (noisy - (1 - a).sqrt() * model_output) / a.sqrt()
    return a.sqrt() * noisy - (1 - a).sqrt() * model_output


def load_judge(spec: str) -> Callable | None:
    """Build the validation judge named ``module:callable`` ('' for none)."""
    if not spec:
        return None
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ValueError(f"validation_judge must look like 'module:callable', got {spec!r}")
    return getattr(importlib.import_module(module_name), attr)()


class EditingObjective:
    """The per-step computation: noise a video part-way, denoise the rest (the chain, or one jump for objective
    ``x0``), score sampled decoded frames and, with a video reward, the whole clip."""

    def __init__(self, pipe, reward, cfg: FinetuneConfig, guidance: float, video_reward: Reward | None = None) -> None:
        self.pipe, self.reward, self.cfg, self.guidance = pipe, reward, cfg, guidance
        self.video_reward = video_reward
        self.scheduler = type(pipe.scheduler).from_config(pipe.scheduler.config)
        self.scheduler.set_timesteps(cfg.num_inference_steps)
        self.timesteps = self.scheduler.timesteps.clone()
        self.start_index = cfg.num_inference_steps - round(cfg.noise_fraction * cfg.num_inference_steps)
        self.source_scheduler = type(pipe.scheduler).from_config(pipe.scheduler.config)
        self.source_scheduler.set_timesteps(cfg.source_steps)

    def text(self, prompts: list[str]) -> torch.Tensor:
        """[unconditional; conditional] embeddings for classifier-free guidance."""
        cond, uncond = self.pipe.encode_prompt(prompts, torch.device("cpu"), 1, True, [""] * len(prompts))
        return torch.cat([uncond, cond])

    def guided(self, unet, latents: torch.Tensor, t: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        """The model's classifier-free-guided output for ``latents`` at ``t`` (``text``: per-frame embeddings)."""
        device = next(unet.parameters()).device
        pred = unet(torch.cat([latents, latents]).to(device), t, encoder_hidden_states=text.to(device)).sample
        uncond, cond = pred.chunk(2)
        return (uncond + self.guidance * (cond - uncond)).to(latents.device)

    def denoise(self, unet, latents: torch.Tensor, embeds: torch.Tensor, start: int, grad_from: int,
                scheduler=None) -> torch.Tensor:
        """DDIM from the ``start``-th timestep to the end; steps at index >= ``grad_from`` keep a graph, the
        ones before run without, on a detached input (nothing before the cut holds activations)."""
        scheduler = scheduler or self.scheduler
        frames = latents.shape[2]
        text = embeds.repeat_interleave(frames, dim=0)
        for i in range(start, len(scheduler.timesteps)):
            t = scheduler.timesteps[i]
            with torch.set_grad_enabled(i >= grad_from):
                x = latents if i >= grad_from else latents.detach()
                latents = scheduler.step(self.guided(unet, x, t, text), t, x).prev_sample
        return latents

    def predict_clean(self, unet, x0: torch.Tensor, embeds: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """Objective ``x0``: noise ``x0`` to a timestep drawn uniformly between the schedule's ``noise_fraction``
        one and its noisiest, and return the clean video the guided model predicts from it (one call, a graph).
        Any training timestep, not only the sampling grid's: one call needs no grid, and every level between
        gets trained."""
        low, high = int(self.timesteps[self.start_index]), int(self.timesteps[0])
        t = torch.randint(low, high + 1, (1,), generator=gen)[0]
        noisy = self.scheduler.add_noise(x0, torch.randn(x0.shape, generator=gen), t.reshape(1))
        text = embeds.repeat_interleave(x0.shape[2], dim=0)
        return predicted_clean(self.scheduler, noisy, self.guided(unet, noisy, t, text), t.reshape(1))

    @torch.no_grad()
    def sample(self, unet, embeds: torch.Tensor, shape: tuple[int, ...], gen: torch.Generator) -> torch.Tensor:
        """A video from the current model (no graph, ``source_steps`` DDIM steps: the noise added next washes
        out the detail more steps would add): the video the step then edits."""
        latents = torch.randn(shape, generator=gen)
        return self.denoise(unet, latents, embeds, 0, len(self.source_scheduler.timesteps), self.source_scheduler)

    def source_latents(self, unet, embeds, clips: np.ndarray | None, shape, gen) -> torch.Tensor:
        if clips is None:
            return self.sample(unet, embeds, shape, gen)
        from t2v.training.common import encode_clips

        return encode_clips(self.pipe.vae, clips)

    def loss(self, unet, prompts: list[str], gen: torch.Generator, clips: np.ndarray | None = None,
             full_chain: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """Minus the shaped reward of one micro-batch, and the per-video rewards (detached).

        ``full_chain`` is the costly objective this one replaces (for the benchmark): sample from pure noise
        with a graph through every step."""
        cfg = self.cfg
        embeds = self.text(prompts)
        frames = int(self.pipe.config.get("native_num_frames") or 8)
        config = self.pipe.unet.config  # the bare UNet's: ``unet`` may be wrapped for data parallelism
        side = config.sample_size if isinstance(config.sample_size, int) else config.sample_size[0]
        shape = (len(prompts), config.in_channels, frames, side, side)
        if full_chain:
            latents = self.denoise(unet, torch.randn(shape, generator=gen), embeds, 0, 0)
            return self.reward_of(latents, prompts, frames, gen)
        x0 = self.source_latents(unet, embeds, clips, shape, gen)
        if cfg.objective == "x0":
            latents = self.predict_clean(unet, x0, embeds, gen)
        else:
            start = self.start_index
            noisy = self.scheduler.add_noise(x0, torch.randn(x0.shape, generator=gen), self.timesteps[start:start + 1])
            latents = self.denoise(unet, noisy, embeds, start, len(self.timesteps) - cfg.grad_steps)
        return self.reward_of(latents, prompts, frames, gen)

    def reward_of(self, latents: torch.Tensor, prompts: list[str], frames: int,
                  gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Decode one random frame per segment, score them, weigh them in time; with a video reward, decode every
        frame and add its weighted score of the whole clip."""
        cfg, vae = self.cfg, self.pipe.vae
        picked = segment_frames(frames, cfg.segments, gen)
        decoded = torch.arange(frames) if self.video_reward is not None else picked
        chosen = latents[:, :, decoded].permute(0, 2, 1, 3, 4).flatten(0, 1) / vae.config.scaling_factor
        pixels = vae.decode(chosen.to(vae.dtype)).sample.float().add(1).div(2).clamp(0, 1)
        pixels = pixels.reshape(len(prompts), len(decoded), *pixels.shape[1:])
        sampled = pixels[:, picked] if self.video_reward is not None else pixels
        per_video = combined_reward(cfg, self.reward, self.video_reward, sampled, picked, frames, prompts, pixels)
        return -per_video.mean(), per_video.detach()




def is_wan(pipe) -> bool:
    """Whether ``pipe`` denoises with Wan's flow-matching transformer(s) (the seam's FlowBackbone)."""
    from t2v.pipelines.backbone import FlowBackbone, backbone_of

    return isinstance(backbone_of(pipe), FlowBackbone)


def wan_video_shape(pipe) -> tuple[int, int, int]:
    """``(frames, height, width)`` a Wan pipeline is tuned at: a T2VWanPipeline's native settings, else the
    stock ``WanPipeline`` defaults (81 frames, 480×832)."""
    from t2v.generation import model_defaults

    defaults = model_defaults(pipe)
    return int(defaults["frames"]), int(defaults["height"]), int(defaults["width"])


def wan_guidance(pipe) -> float:
    from t2v.generation import model_defaults

    return float(model_defaults(pipe)["guidance"])


class FlowEditingObjective:
    """:class:`EditingObjective` on Wan, through the backbone seam only: Wan's prompt encoding, latents of
    ``(F-1)//4+1`` frames, the seam's flow ``add_noise``, :func:`~t2v.pipelines.wan_model_call.wan_velocity` for
    every step (the expert for the timestep, so a cut that straddles Wan 2.2's boundary trains both experts),
    the pipeline's flow scheduler's ``step``, then the seam's ``denormalise`` and ``vae.decode``.

    The decode is the whole clip's, with a graph: ``AutoencoderKLWan`` has no gradient checkpointing and its
    causal decoder runs from frame 0 through a feature cache, so the segment frames the reward scores are picked
    from the decoded clip and decoding only them would save nothing (at most the chunks after the last picked
    frame). Its activations for every frame at full resolution are held until backward, a cost that grows with
    frames × pixels and that neither ``segments`` nor ``grad_steps`` nor ``gradient_checkpointing`` (the
    transformers' only) reduces.

    Measured with :func:`peak_memory` (peak tensor memory of loss and backward, above what was live before) on
    the tiny two-expert test model (9 frames of 16×16, batch 1, 4 steps noised to 0.75, CFG, 512 text tokens):
    14.0 MiB a step at j = 1, 2 or 3, a peak set by the UMT5 text encoding (its relative-position bias at 512
    tokens, no graph), which comes first. Past the text: 0.80 / 1.55 / 2.30 MiB after denoising with
    j = 1 / 2 / 3 (0.75 MiB of activations per graph step, two transformer passes under CFG; none for the steps
    before the cut), +0.96 MiB for the whole-clip decode's graph, +5.5 MiB for the shapes-alignment reward's.
    Tiny-model figures show the proportions only; tests/test_wan_lora.py measures the j = 1 / j = 3 growth again.
    """

    def __init__(self, pipe, reward: Reward, cfg: FinetuneConfig, guidance: float,
                 max_sequence_length: int | None = None, video_reward: Reward | None = None) -> None:
        from t2v.pipelines.backbone import backbone_of
        from t2v.pipelines.pipeline_t2v_wan import STOCK_MAX_SEQUENCE_LENGTH

        self.pipe, self.reward, self.cfg, self.guidance = pipe, reward, cfg, guidance
        self.video_reward = video_reward
        self.backbone = backbone_of(pipe)
        # the pipeline's own text length, as its sampling reads prompts (Wan pads with zeros, which attention sees)
        self.max_sequence_length = max_sequence_length or getattr(pipe, "max_sequence_length",
                                                                  STOCK_MAX_SEQUENCE_LENGTH)
        self.num_frames, self.height, self.width = wan_video_shape(pipe)
        self.start_index = cfg.num_inference_steps - round(cfg.noise_fraction * cfg.num_inference_steps)

    @property
    def device(self) -> torch.device:
        return self.pipe._execution_device

    def latent_shape(self, batch: int) -> tuple[int, ...]:
        """``(B, C, (F-1)//4+1, H/8, W/8)``: what ``WanPipeline.prepare_latents`` makes."""
        from t2v.pipelines.wan_model_call import wan_denoiser

        model = wan_denoiser(self.pipe)
        spatial = self.pipe.vae_scale_factor_spatial
        return (batch, model.config.in_channels, self.backbone.num_latent_frames(self.num_frames),
                self.height // spatial, self.width // spatial)

    def text(self, prompts: list[str]) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Prompt and empty-negative embeddings (no negative when guidance is off, as in ``WanPipeline``)."""
        with torch.no_grad():
            return self.pipe.encode_prompt(prompts, [""] * len(prompts), do_classifier_free_guidance=self.guidance > 1,
                                           num_videos_per_prompt=1, max_sequence_length=self.max_sequence_length,
                                           device=self.device)

    def timesteps(self, steps: int) -> torch.Tensor:
        """The pipeline's scheduler set for ``steps`` (``wan_velocity`` reads its sigmas): a fresh step counter
        for every pass."""
        self.pipe.scheduler.set_timesteps(steps, device=self.device)
        return self.pipe.scheduler.timesteps

    def denoise(self, latents: torch.Tensor, text: tuple[torch.Tensor, torch.Tensor | None], steps: int,
                start: int, grad_from: int) -> torch.Tensor:
        """Flow steps from the ``start``-th of a ``steps`` schedule to the end; steps at index >= ``grad_from``
        keep a graph, the ones before run without, on a detached input."""
        from t2v.pipelines.wan_model_call import wan_velocity

        scheduler = self.pipe.scheduler
        timesteps = self.timesteps(steps)
        scheduler.set_begin_index(start)
        cond, uncond = text
        for i in range(start, len(timesteps)):
            t = timesteps[i]
            with torch.set_grad_enabled(i >= grad_from):
                x = latents if i >= grad_from else latents.detach()
                velocity = wan_velocity(self.pipe, x, t, cond, uncond, self.guidance, step_index=i,
                                        num_steps=len(timesteps))
                latents = scheduler.step(velocity, t, x, return_dict=False)[0]
        return latents

    def noise(self, shape: tuple[int, ...], gen: torch.Generator) -> torch.Tensor:
        return torch.randn(shape, generator=gen).to(self.device)

    def source_latents(self, text, clips: np.ndarray | None, shape: tuple[int, ...], gen: torch.Generator
                       ) -> torch.Tensor:
        """The video the step edits: sampled by the current model in ``source_steps`` (no graph), or data clips
        encoded and normalised."""
        if clips is None:
            with torch.no_grad():
                return self.denoise(self.noise(shape, gen), text, self.cfg.source_steps, 0, self.cfg.source_steps)
        return self.encode_clips(clips)

    def encode_clips(self, clips: np.ndarray) -> torch.Tensor:
        """uint8 clips ``(N, F, H, W, 3)`` at the model's frames and size → normalised Wan latents."""
        if tuple(clips.shape[1:4]) != (self.num_frames, self.height, self.width):
            raise ValueError(f"data_file clips must be {self.num_frames} frames of {self.height}×{self.width} for "
                             f"this Wan model, got {tuple(clips.shape[1:4])}")
        vae = self.pipe.vae
        pixels = torch.from_numpy(np.ascontiguousarray(clips)).to(self.device).permute(0, 4, 1, 2, 3)
        with torch.no_grad():
            z = vae.encode(pixels.to(vae.dtype) / 127.5 - 1).latent_dist.mode()
        return self.backbone.normalise(z.float())

    def loss(self, prompts: list[str], gen: torch.Generator, clips: np.ndarray | None = None,
             full_chain: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """Minus the shaped reward of one micro-batch, and the per-video rewards (detached); ``full_chain``
        samples from pure noise with a graph through every step."""
        cfg = self.cfg
        text = self.text(prompts)
        shape = self.latent_shape(len(prompts))
        if full_chain:
            latents = self.denoise(self.noise(shape, gen), text, cfg.num_inference_steps, 0, 0)
        else:
            x0 = self.source_latents(text, clips, shape, gen)
            start, steps = self.start_index, cfg.num_inference_steps
            noisy = self.backbone.add_noise(x0, self.noise(x0.shape, gen), self.timesteps(steps)[start])
            latents = self.denoise(noisy, text, steps, start, steps - cfg.grad_steps)
        return self.reward_of(latents, prompts, gen)

    def reward_of(self, latents: torch.Tensor, prompts: list[str], gen: torch.Generator
                  ) -> tuple[torch.Tensor, torch.Tensor]:
        """Decode the whole clip (see the class note), score one random frame per segment, weigh them in time; add
        the video reward's weighted score of the whole clip when there is one."""
        vae = self.pipe.vae
        video = vae.decode(self.backbone.denormalise(latents.to(vae.dtype)), return_dict=False)[0]
        frames = video.shape[2]
        pixels = video.float().add(1).div(2).clamp(0, 1).permute(0, 2, 1, 3, 4)  # (B, F, 3, H, W)
        picked = segment_frames(frames, self.cfg.segments, gen)
        per_video = combined_reward(self.cfg, self.reward, self.video_reward, pixels[:, picked.to(pixels.device)],
                                    picked, frames, prompts, pixels)
        return -per_video.mean(), per_video.detach()


def peak_memory(fn: Callable[[], object]) -> tuple[object, dict[str, float | None]]:
    """``fn()`` and the peak of the tensor memory it allocated above what was live when it started, in MiB:
    ``cpu`` from the PyTorch profiler's allocation records (every allocation and free in time order; RSS
    would hide it behind memory malloc keeps for reuse) and ``cuda`` (the allocator's peak; None without CUDA).
    What the trainer's figures of one step's memory come from."""
    from torch.profiler import ProfilerActivity, profile

    cuda = torch.cuda.is_available() and torch.cuda.is_initialized()
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        cuda_before = torch.cuda.memory_allocated()
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        result = fn()
    # an op's own allocations net of its own frees, at its start; frees outside ops are "[memory]" events
    changes = sorted((e.time_range.start, e.self_cpu_memory_usage) for e in prof.events() if e.self_cpu_memory_usage)
    live = peak = 0
    for _, change in changes:
        live += change
        peak = max(peak, live)
    figures: dict[str, float | None] = {"cpu": peak / 2**20, "cuda": None}
    if cuda:
        torch.cuda.synchronize()
        figures["cuda"] = (torch.cuda.max_memory_allocated() - cuda_before) / 2**20
    return result, figures


def tuned_models(pipe) -> list[torch.nn.Module]:
    """The modules that carry the LoRA: the UNet, or every Wan expert."""
    return list(wan_experts(pipe).values()) if is_wan(pipe) else [pipe.unet]


def validate(pipe, prompts: list[str], judge, reward, cfg: FinetuneConfig, guidance: float,
             video_reward: Reward | None = None) -> dict:
    """Generate each validation prompt with fixed seeds by ``pipe`` (whose UNet or Wan experts carry the LoRA
    being trained); the judge's mean score, the reward's and the video reward's (each on its own scale)."""
    from t2v.generation import generate

    models = tuned_models(pipe)
    was_training = [model.training for model in models]
    for model in models:
        model.eval()
    judged, rewarded, video_rewarded = [], [], []
    try:
        for i, prompt in enumerate(prompts):
            frames, _ = generate(pipe, prompt, seed=i, num_inference_steps=cfg.num_inference_steps,
                                 guidance_scale=guidance)
            if judge is not None:
                judged.append(float(judge(frames, prompt)))
            video = frames_from_uint8(frames)
            with torch.no_grad():
                rewarded.append(float(reward(video, [prompt]).mean()))
                if video_reward is not None:
                    video_rewarded.append(float(video_reward(video, [prompt])))
    finally:
        for model, was in zip(models, was_training, strict=True):
            model.train(was)
    out = {"validation_reward": float(np.mean(rewarded))}
    if video_rewarded:
        out["validation_video_reward"] = float(np.mean(video_rewarded))
    if judged:
        out["validation_judge"] = float(np.mean(judged))
    return out


def read_data_file(path: str) -> tuple[np.ndarray, list[str]]:
    from safetensors import safe_open

    if not Path(path).is_file():
        raise ValueError(f"data_file {path} does not exist (for tiny-shapes, write it with "
                         f"`python -m t2v.rewards.shapes_alignment.clips --out {path}`)")
    with safe_open(path, "np") as f:
        clips = f.get_tensor("clips")
        prompts = json.loads((f.metadata() or {}).get("prompts", "[]"))
    if clips.dtype != np.uint8 or clips.ndim != 5 or len(prompts) != len(clips):
        raise ValueError(f"data_file {path} must hold uint8 clips (N, F, H, W, 3) and one prompt per clip")
    return clips, prompts


RESUMABLE_CHANGES = frozenset({"steps", "output_dir", "validation_every", "checkpoint_every", "log_every",
                               "num_validation_prompts", "validation_judge", "validation_prompts"})


def check_resumable(saved: dict, cfg: FinetuneConfig, checkpoint: Path) -> None:
    """Refuse to go on from a checkpoint of another training setup (a reused output_dir): only the length of
    the run and what is logged or validated may change between a run and its resume."""
    changed = sorted(k for k, v in asdict(cfg).items() if k in saved and saved[k] != v and k not in RESUMABLE_CHANGES)
    if changed:
        raise ValueError(f"output_dir {checkpoint.parent} holds a checkpoint of another config (it differs in "
                         f"{', '.join(changed)}): use a new output_dir, or delete {checkpoint} to start again")


def trim_log(folder: Path, step: int) -> None:
    """Drop log records past ``step``: steps an interrupted run logged after its last checkpoint are redone."""
    log = folder / LOG_FILE
    if not log.exists():
        return
    kept = [line for line in log.read_text().splitlines() if line.strip() and json.loads(line)["step"] <= step]
    log.write_text("".join(line + "\n" for line in kept))


def append_log(folder: Path, record: dict) -> None:
    with (folder / LOG_FILE).open("a") as f:
        f.write(json.dumps(record) + "\n")


def plot_log(folder: Path) -> Path:
    from t2v.plotting import line_chart

    records = [json.loads(line) for line in (folder / LOG_FILE).read_text().splitlines() if line.strip()]
    train = [(r["step"], r["reward"]) for r in records if "reward" in r]
    val = {k: [(r["step"], r[k]) for r in records if k in r]
           for k in ("validation_reward", "validation_video_reward", "validation_judge")}
    window = max(1, len(train) // 20)
    smooth = [(train[i][0], float(np.mean([r for _, r in train[max(0, i - window + 1):i + 1]])))
              for i in range(len(train))]
    panels = {"training reward (mean per video)": {"per step": train, f"mean of the last {window}": smooth},
              "validation reward": {"reward": val["validation_reward"]}}
    if val["validation_video_reward"]:
        panels["validation video reward"] = {"video reward": val["validation_video_reward"]}
    if val["validation_judge"]:
        panels["validation judge score"] = {"judge": val["validation_judge"]}
    return line_chart(panels, folder / PLOT_FILE)


def average_gradients(params: list[torch.Tensor], accelerator) -> None:
    """Average the LoRA gradients over processes in one all-reduce. Wan's experts are called through
    ``wan_velocity`` on the pipeline's own modules, so they are not wrapped for data parallelism and their
    gradients are averaged here instead; a parameter no process reached keeps no gradient (AdamW skips it)."""
    if accelerator.num_processes == 1:
        return
    flat = torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1) for p in params]
                     + [torch.tensor([float(p.grad is not None) for p in params], device=params[0].device)])
    flat = accelerator.reduce(flat, reduction="sum")
    reached = flat[-len(params):]
    offset = 0
    for p, count in zip(params, reached, strict=True):
        n = p.numel()
        p.grad = flat[offset:offset + n].view_as(p) / accelerator.num_processes if count > 0 else None
        offset += n


def _start(cfg: FinetuneConfig):
    """The accelerator and the output folder (with the run's config.json, written by the main process)."""
    from accelerate import Accelerator

    from t2v.processes import uses_cpu

    accelerator = Accelerator(cpu=uses_cpu(), mixed_precision=cfg.mixed_precision,
                              gradient_accumulation_steps=cfg.gradient_accumulation)
    out = Path(cfg.output_dir)
    if accelerator.is_main_process:
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.json").write_text(cfg.to_json())
    return accelerator, out


def train(cfg: FinetuneConfig, judge: Callable | None = None) -> Path:
    """Run (or resume) a fine-tune of ``cfg.model`` (tiny-shapes, an AnimateDiff or a Wan folder); returns the
    LoRA folder. ``judge`` overrides ``cfg.validation_judge``."""
    from t2v.models import load_pipeline

    accelerator, out = _start(cfg)
    return _finetune(load_pipeline(cfg.model), cfg, accelerator, out, judge, None)


def finetune(pipe, cfg: FinetuneConfig, *, judge: Callable | None = None, reward: Reward | None = None) -> Path:
    """:func:`train` on a pipeline already built (``cfg.model`` is not read): an AnimateDiff pipeline or a Wan
    one (2.1, or 2.2 with two experts, both of which get the LoRA). ``reward`` overrides ``cfg.reward``."""
    from t2v.models.caching import caching_disabled

    accelerator, out = _start(cfg)
    with caching_disabled(pipe):  # a cache would hand back stale activations that carry no gradient
        return _finetune(pipe, cfg, accelerator, out, judge, reward)


def _finetune(pipe, cfg: FinetuneConfig, accelerator, out: Path, judge: Callable | None,
              reward: Reward | None) -> Path:
    from t2v.world.spec import MAX_FRAMES, MAX_SIZE, MIN_FRAMES, MIN_SIZE

    pipe.set_progress_bar_config(disable=True)
    pipe.vae.requires_grad_(False)
    pipe.text_encoder.requires_grad_(False)
    wan = is_wan(pipe)
    lora_options = dict(rank=cfg.lora_rank, alpha=cfg.lora_alpha, targets=cfg.lora_targets, blocks=cfg.lora_blocks,
                        seed=cfg.seed)
    if wan:
        guidance = cfg.guidance_scale if cfg.guidance_scale is not None else wan_guidance(pipe)
        params = add_wan_lora(pipe, **lora_options)
        models = list(wan_experts(pipe).values())
        frames, side, _ = wan_video_shape(pipe)
        frames, side = min(max(frames, MIN_FRAMES), MAX_FRAMES), min(max(side, MIN_SIZE), MAX_SIZE)  # for shapes-*
    else:
        guidance = cfg.guidance_scale if cfg.guidance_scale is not None else \
            float(pipe.config.get("native_guidance_scale") or 7.5)
        unet = pipe.unet
        params = add_lora(unet, **lora_options)
        models = [unet]
        frames, side = int(pipe.config.get("native_num_frames") or 8), unet.config.sample_size * pipe.vae_scale_factor
    if cfg.gradient_checkpointing:
        for model in models:
            model.enable_gradient_checkpointing()
    reward_name = cfg.reward if reward is None else reward.name
    reward = reward_for(cfg) if reward is None else reward
    if not reward.differentiable:
        raise ValueError(f"reward {reward_name!r} is not differentiable: use it for best-of-N selection instead")
    if not reward.per_frame:
        raise ValueError(f"reward {reward_name!r} scores whole videos, so frames cannot be sampled for it: "
                         "give it as video_reward beside a per-frame reward")
    video_reward = video_reward_for(cfg)
    if wan and cfg.objective != "editing":
        raise ValueError(f"objective {cfg.objective!r} is for AnimateDiff models; Wan fine-tunes with 'editing'")
    data_clips, data_prompts = read_data_file(cfg.data_file) if cfg.video_source == "data" else (None, None)
    prompts = data_prompts or load_prompts(cfg.prompts, cfg.num_prompts, what="prompts", frames=frames, size=side)
    optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)

    def lora_states() -> dict[str, LoraState]:
        return wan_lora_states(pipe) if wan else {"lora": LoraState(accelerator.unwrap_model(models[0]))}

    step, spent, spent_cpu = 0, 0.0, 0.0  # training before this process, wall and CPU seconds (resumes add up)
    checkpoint = out / CHECKPOINT_DIR
    if find_state(checkpoint) is not None:
        meta = load_state(checkpoint, models=lora_states(), optimizer=optimizer)
        check_resumable(meta.get("config", {}), cfg, checkpoint)
        step, spent, spent_cpu = meta["step"], float(meta.get("seconds", 0.0)), float(meta.get("cpu_seconds", 0.0))
        logger.info("resumed at step %d from %s", step, checkpoint)
    if accelerator.is_main_process:
        trim_log(out, step if step else -1)  # a fresh start logs its step-0 validation anew
    for model in models:
        model.train()
    if wan:  # the experts stay unwrapped (wan_velocity calls the pipeline's own): see average_gradients
        pipe.to(accelerator.device)
        optimizer = accelerator.prepare(optimizer)
        wan_objective = FlowEditingObjective(pipe, reward, cfg, guidance, video_reward=video_reward)
        compute_loss = wan_objective.loss
    else:
        unet, optimizer = accelerator.prepare(unet, optimizer)
        models = [unet]
        objective = EditingObjective(pipe, reward, cfg, guidance, video_reward)

        def compute_loss(batch: list[str], gen: torch.Generator, clips: np.ndarray | None):
            return objective.loss(unet, batch, gen, clips)
    if judge is None and accelerator.is_main_process:
        judge = load_judge(cfg.validation_judge)
    val_prompts = load_prompts(cfg.validation_prompts, cfg.num_validation_prompts, what="validation_prompts",
                               frames=frames, size=side) if accelerator.is_main_process else []
    if step == 0 and accelerator.is_main_process:  # the base model's validation: where the curves start
        append_log(out, {"step": 0, **validate(pipe, val_prompts, judge, reward, cfg, guidance, video_reward)})
    accelerator.wait_for_everyone()
    started, started_cpu, rewards_seen = time.time(), time.process_time(), []
    while step < cfg.steps:
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, cfg.learning_rate, cfg.warmup_steps, cfg.steps, cfg.lr_schedule)
        step_rewards = []
        for micro in range(cfg.gradient_accumulation):
            gen = step_generator(cfg.seed, step * cfg.gradient_accumulation + micro, accelerator.process_index)
            idx = batch_prompt_indices(step, micro, cfg, len(prompts), accelerator.process_index,
                                       accelerator.num_processes)
            clips = data_clips[idx] if data_clips is not None else None
            with accelerator.accumulate(*models), accelerator.autocast():
                loss, per_video = compute_loss([prompts[i] for i in idx], gen, clips)
                accelerator.backward(loss)
                if accelerator.sync_gradients:
                    if wan:
                        average_gradients(params, accelerator)
                    accelerator.clip_grad_norm_(params, cfg.max_grad_norm)
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
            step_rewards.append(float(accelerator.gather(per_video.to(accelerator.device)).mean()))
        step += 1
        rewards_seen.append(float(np.mean(step_rewards)))
        record: dict = {"step": step, "reward": rewards_seen[-1], "lr": optimizer.param_groups[0]["lr"],
                        "seconds": round(spent + time.time() - started, 1),
                        "cpu_seconds": round(spent_cpu + time.process_time() - started_cpu, 1)}
        if step % cfg.validation_every == 0 or step == cfg.steps:
            if accelerator.is_main_process:
                record.update(validate(pipe, val_prompts, judge, reward, cfg, guidance, video_reward))
            accelerator.wait_for_everyone()
        if accelerator.is_main_process:
            append_log(out, record)
            if step % cfg.log_every == 0:
                logger.info("step %d/%d reward %.4f (last %d: %.4f) %.1f s/step%s", step, cfg.steps,
                            rewards_seen[-1], cfg.log_every, float(np.mean(rewards_seen[-cfg.log_every:])),
                            (time.time() - started) / len(rewards_seen),
                            "".join(f" {k} {v:.4f}" for k, v in record.items() if k.startswith("validation")))
            if step % cfg.checkpoint_every == 0 or step == cfg.steps:
                save_state(checkpoint, models=lora_states(), optimizer=optimizer,
                           meta={"step": step, "config": asdict(cfg), "seconds": record["seconds"],
                                 "cpu_seconds": record["cpu_seconds"]})
        accelerator.wait_for_everyone()
    lora_dir = out / LORA_DIR
    if accelerator.is_main_process:
        if wan:
            save_wan_lora(pipe, lora_dir)
        else:
            save_lora(accelerator.unwrap_model(models[0]), lora_dir)
        plot_log(out)
        logger.info("wrote %s and %s", lora_dir, out / PLOT_FILE)
    accelerator.wait_for_everyone()
    return lora_dir


def main(argv: list[str] | None = None) -> int:
    parser = config_parser()
    args = parser.parse_args(argv)
    try:
        cfg = config_from_args(args)
    except ValueError as err:
        parser.error(str(err))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    lora = train(cfg)
    print(f"LoRA: {lora}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
