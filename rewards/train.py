"""Reward fine-tuning recast as editing (InstructVideo), as a LoRA, under ``accelerate launch``.

Each step takes a video (sampled by the model being tuned, or a data clip), noises it to a fraction ``s`` of
the DDIM schedule, denoises the remaining steps with classifier-free guidance — without a graph until the
last ``j`` steps — decodes one random frame of each of K segments and maximises their temporally attenuated
reward. Only the LoRA trains; nothing before the cut keeps activations, so memory does not grow with ``s``.

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
from .lora import LoraState, add_lora, save_lora
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


def load_judge(spec: str) -> Callable | None:
    """Build the validation judge named ``module:callable`` ('' for none)."""
    if not spec:
        return None
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ValueError(f"validation_judge must look like 'module:callable', got {spec!r}")
    return getattr(importlib.import_module(module_name), attr)()


class EditingObjective:
    """The per-step computation: noise a video part-way, denoise the rest, score sampled decoded frames."""

    def __init__(self, pipe, reward, cfg: FinetuneConfig, guidance: float) -> None:
        self.pipe, self.reward, self.cfg, self.guidance = pipe, reward, cfg, guidance
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

    def denoise(self, unet, latents: torch.Tensor, embeds: torch.Tensor, start: int, grad_from: int,
                scheduler=None) -> torch.Tensor:
        """DDIM from the ``start``-th timestep to the end; steps at index >= ``grad_from`` keep a graph, the
        ones before run without, on a detached input (nothing before the cut holds activations)."""
        scheduler = scheduler or self.scheduler
        frames = latents.shape[2]
        text = embeds.repeat_interleave(frames, dim=0)
        device = next(unet.parameters()).device
        for i in range(start, len(scheduler.timesteps)):
            t = scheduler.timesteps[i]
            with torch.set_grad_enabled(i >= grad_from):
                x = latents if i >= grad_from else latents.detach()
                pred = unet(torch.cat([x, x]).to(device), t, encoder_hidden_states=text.to(device)).sample
                uncond, cond = pred.chunk(2)
                pred = uncond + self.guidance * (cond - uncond)
                latents = scheduler.step(pred.to(x.device), t, x).prev_sample
        return latents

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
        else:
            x0 = self.source_latents(unet, embeds, clips, shape, gen)
            start = self.start_index
            noisy = self.scheduler.add_noise(x0, torch.randn(x0.shape, generator=gen), self.timesteps[start:start + 1])
            latents = self.denoise(unet, noisy, embeds, start, len(self.timesteps) - cfg.grad_steps)
        return self.reward_of(latents, prompts, frames, gen)

    def reward_of(self, latents: torch.Tensor, prompts: list[str], frames: int,
                  gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Decode one random frame per segment, score them, weigh them in time."""
        cfg, vae = self.cfg, self.pipe.vae
        picked = segment_frames(frames, cfg.segments, gen)
        chosen = latents[:, :, picked].permute(0, 2, 1, 3, 4).flatten(0, 1) / vae.config.scaling_factor
        pixels = vae.decode(chosen.to(vae.dtype)).sample.float().add(1).div(2).clamp(0, 1)
        pixels = pixels.reshape(len(prompts), len(picked), *pixels.shape[1:])
        per_frame = self.reward(pixels, prompts)
        per_video = shape_video_reward(per_frame, picked, frames, cfg.attenuation)
        return -per_video.mean(), per_video.detach()


def validate(pipe, prompts: list[str], judge, reward, cfg: FinetuneConfig, guidance: float) -> dict:
    """Generate each validation prompt with fixed seeds by ``pipe`` (whose UNet carries the LoRA being
    trained); the judge's mean score and the reward's."""
    from t2v.generation import generate

    unet = pipe.unet
    was_training = unet.training
    unet.eval()
    judged, rewarded = [], []
    try:
        for i, prompt in enumerate(prompts):
            frames, _ = generate(pipe, prompt, seed=i, num_inference_steps=cfg.num_inference_steps,
                                 guidance_scale=guidance)
            if judge is not None:
                judged.append(float(judge(frames, prompt)))
            with torch.no_grad():
                rewarded.append(float(reward(frames_from_uint8(frames), [prompt]).mean()))
    finally:
        unet.train(was_training)
    out = {"validation_reward": float(np.mean(rewarded))}
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
    val = {k: [(r["step"], r[k]) for r in records if k in r] for k in ("validation_reward", "validation_judge")}
    window = max(1, len(train) // 20)
    smooth = [(train[i][0], float(np.mean([r for _, r in train[max(0, i - window + 1):i + 1]])))
              for i in range(len(train))]
    panels = {"training reward (mean per video)": {"per step": train, f"mean of the last {window}": smooth},
              "validation reward": {"reward": val["validation_reward"]}}
    if val["validation_judge"]:
        panels["validation judge score"] = {"judge": val["validation_judge"]}
    return line_chart(panels, folder / PLOT_FILE)


def train(cfg: FinetuneConfig, judge: Callable | None = None) -> Path:
    """Run (or resume) a fine-tune; returns the LoRA folder. ``judge`` overrides ``cfg.validation_judge``."""
    from accelerate import Accelerator

    from t2v.models import load_pipeline
    from t2v.processes import uses_cpu

    accelerator = Accelerator(cpu=uses_cpu(), mixed_precision=cfg.mixed_precision,
                              gradient_accumulation_steps=cfg.gradient_accumulation)
    out = Path(cfg.output_dir)
    if accelerator.is_main_process:
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.json").write_text(cfg.to_json())
    pipe = load_pipeline(cfg.model)
    pipe.set_progress_bar_config(disable=True)
    pipe.vae.requires_grad_(False)
    pipe.text_encoder.requires_grad_(False)
    guidance = cfg.guidance_scale if cfg.guidance_scale is not None else \
        float(pipe.config.get("native_guidance_scale") or 7.5)
    unet = pipe.unet
    params = add_lora(unet, rank=cfg.lora_rank, alpha=cfg.lora_alpha, targets=cfg.lora_targets,
                      blocks=cfg.lora_blocks, seed=cfg.seed)
    if cfg.gradient_checkpointing:
        unet.enable_gradient_checkpointing()
    reward = reward_for(cfg)
    if not reward.differentiable:
        raise ValueError(f"reward {cfg.reward!r} is not differentiable: use it for best-of-N selection instead")
    frames, side = int(pipe.config.get("native_num_frames") or 8), unet.config.sample_size * pipe.vae_scale_factor
    data_clips, data_prompts = read_data_file(cfg.data_file) if cfg.video_source == "data" else (None, None)
    prompts = data_prompts or load_prompts(cfg.prompts, cfg.num_prompts, what="prompts", frames=frames, size=side)
    optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
    step, spent, spent_cpu = 0, 0.0, 0.0  # training before this process, wall and CPU seconds (resumes add up)
    checkpoint = out / CHECKPOINT_DIR
    if find_state(checkpoint) is not None:
        meta = load_state(checkpoint, models={"lora": LoraState(unet)}, optimizer=optimizer)
        step, spent, spent_cpu = meta["step"], float(meta.get("seconds", 0.0)), float(meta.get("cpu_seconds", 0.0))
        logger.info("resumed at step %d from %s", step, checkpoint)
    if accelerator.is_main_process:
        trim_log(out, step if step else -1)  # a fresh start logs its step-0 validation anew
    unet.train()
    unet, optimizer = accelerator.prepare(unet, optimizer)
    objective = EditingObjective(pipe, reward, cfg, guidance)
    if judge is None and accelerator.is_main_process:
        judge = load_judge(cfg.validation_judge)
    val_prompts = load_prompts(cfg.validation_prompts, cfg.num_validation_prompts, what="validation_prompts",
                               frames=frames, size=side) if accelerator.is_main_process else []
    if step == 0 and accelerator.is_main_process:  # the base model's validation: where the curves start
        append_log(out, {"step": 0, **validate(pipe, val_prompts, judge, reward, cfg, guidance)})
    accelerator.wait_for_everyone()
    started, started_cpu, rewards_seen = time.time(), time.process_time(), []
    while step < cfg.steps:
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, cfg.learning_rate, cfg.warmup_steps, cfg.steps)
        step_rewards = []
        for micro in range(cfg.gradient_accumulation):
            gen = step_generator(cfg.seed, step * cfg.gradient_accumulation + micro, accelerator.process_index)
            idx = batch_prompt_indices(step, micro, cfg, len(prompts), accelerator.process_index,
                                       accelerator.num_processes)
            clips = data_clips[idx] if data_clips is not None else None
            with accelerator.accumulate(unet), accelerator.autocast():
                loss, per_video = objective.loss(unet, [prompts[i] for i in idx], gen, clips)
                accelerator.backward(loss)
                if accelerator.sync_gradients:
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
                record.update(validate(pipe, val_prompts, judge, reward, cfg, guidance))
            accelerator.wait_for_everyone()
        if accelerator.is_main_process:
            append_log(out, record)
            if step % cfg.log_every == 0:
                logger.info("step %d/%d reward %.4f (last %d: %.4f) %.1f s/step%s", step, cfg.steps,
                            rewards_seen[-1], cfg.log_every, float(np.mean(rewards_seen[-cfg.log_every:])),
                            (time.time() - started) / len(rewards_seen),
                            "".join(f" {k} {v:.4f}" for k, v in record.items() if k.startswith("validation")))
            if step % cfg.checkpoint_every == 0 or step == cfg.steps:
                save_state(checkpoint, models={"lora": LoraState(accelerator.unwrap_model(unet))},
                           optimizer=optimizer,
                           meta={"step": step, "config": asdict(cfg), "seconds": record["seconds"],
                                 "cpu_seconds": record["cpu_seconds"]})
        accelerator.wait_for_everyone()
    lora_dir = out / LORA_DIR
    if accelerator.is_main_process:
        save_lora(accelerator.unwrap_model(unet), lora_dir)
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
