"""Train the embedded ``tiny-shapes`` text-to-video model on rendered shapes-world clips.

    python -m t2v.world.train --out runs/tiny-shapes            # all stages, resumes if interrupted
    accelerate launch -m t2v.world.train --out runs/tiny-shapes # the same on several processes
    python -m t2v.world.train --out runs/tiny-shapes --stage export --export t2v/weights/tiny-shapes

Stages, each skipped when its output exists, each resumable from its last checkpoint:
1. ``data``: render clips of random scenes (held-out attribute combinations excluded) and caption them;
2. ``vae``: train the small VAE on single frames, then fix its latent scaling factor;
   ``decoder`` (when ``--decoder-steps`` > 0): sharpen the decoder with the encoder frozen, object pixels
   weighted up (:mod:`t2v.world.decoder_finetune`); the latents, and so any trained UNet, stay valid;
3. ``encode``: encode every clip to latents and every caption to MiniLM hidden states, once;
4. ``direction`` (when ``--direction-steps`` > 0): a short warm-up on centred clips at high noise that
   makes direction words steer (:mod:`t2v.world.direction_warmup`); the ``unet`` stage goes on from it;
5. ``unet``: train the video UNet (v-prediction, min-SNR weighting, EMA) on the cached latents;
6. ``export``: write a diffusers folder (EMA UNet, VAE with the fine-tuned decoder if any, scheduler) that
   :func:`t2v.models.load_pipeline` loads.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import math
import random
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from ..processes import process_state, uses_cpu
from .architecture import (
    PRESETS,
    TEXT_MAX_LENGTH,
    TinyShapesPreset,
    build_sample_scheduler,
    build_train_scheduler,
    build_unet,
    build_vae,
    load_text_encoder,
    load_tokenizer,
)
from .decoder_finetune import TUNED_VAE, finetune_decoder, run_vae
from .direction_warmup import DIRECTION_DATA, DirectionBatches, warm_up_directions, warmed_up_unet
from .holdout import spec_is_heldout
from .render import render
from .sampling import sample_spec
from .training_state import find_state, load_state, resume_step, save_state

logger = logging.getLogger(__name__)

STAGES = ("data", "vae", "decoder", "encode", "direction", "unet", "export")


@dataclass
class TrainConfig:
    """Every knob of a training run. The defaults are the first run's; README gives the flags that
    made the shipped weights from it."""

    out: str = field(default="runs/tiny-shapes", metadata={"help": "run folder: data, checkpoints, exports"})
    preset: str = field(default="tiny-shapes", metadata={"help": f"model size preset: {sorted(PRESETS)}"})
    seed: int = field(default=0, metadata={"help": "seed of data, initialisation and batches"})
    clips: int = field(default=12000, metadata={"help": "number of rendered training clips"})
    captions_per_clip: int = field(default=3, metadata={"help": "different phrasings kept per clip"})
    two_objects: float = field(default=0.3, metadata={"help": "fraction of scenes with two objects"})
    vae_steps: int = field(default=2500, metadata={"help": "VAE optimisation steps"})
    vae_batch: int = field(default=64, metadata={"help": "frames per VAE batch"})
    vae_lr: float = field(default=1e-3, metadata={"help": "VAE peak learning rate"})
    vae_kl: float = field(default=1e-6, metadata={"help": "weight of the VAE's KL term"})
    decoder_steps: int = field(default=0, metadata={
        "help": "steps of the decoder fine-tune after the VAE stage (encoder frozen; 0: none); "
                "see t2v.world.decoder_finetune"})
    decoder_lr: float = field(default=5e-4, metadata={"help": "peak learning rate of the decoder fine-tune"})
    decoder_object_weight: float = field(default=10.0, metadata={
        "help": "extra loss weight of object pixels (and their rim) in the decoder fine-tune"})
    decoder_encoder_lr: float = field(default=0.0, metadata={
        "help": "peak learning rate of the encoder in the decoder fine-tune (0: frozen, so cached latents and "
                "trained UNets stay valid; above 0 the latent space changes: re-encode and train the UNet)"})
    unet_steps: int = field(default=20000, metadata={"help": "UNet optimisation steps"})
    unet_batch: int = field(default=16, metadata={"help": "clips per UNet batch (per process)"})
    unet_lr: float = field(default=1e-3, metadata={"help": "UNet peak learning rate"})
    warmup: int = field(default=300, metadata={"help": "linear learning-rate warm-up steps"})
    ema_decay: float = field(default=0.999, metadata={"help": "EMA decay of the UNet weights used to sample"})
    snr_gamma: float = field(default=5.0, metadata={"help": "min-SNR loss weighting gamma (0 disables)"})
    caption_dropout: float = field(default=0.1, metadata={"help": "fraction of empty captions (for CFG)"})
    attribute_dropout: float = field(default=0.0, metadata={
        "help": "chance that a training caption leaves one attribute (colour, shape or size) unsaid, so each "
                "word is learnt on its own rather than with the words it usually comes with"})
    direction_steps: int = field(default=0, metadata={
        "help": "steps of the direction warm-up before the UNet stage (0: none); see t2v.world.direction_warmup"})
    direction_clips: int = field(default=3000, metadata={"help": "centred clips rendered for the direction warm-up"})
    direction_lr: float = field(default=1e-3, metadata={"help": "constant learning rate of the direction warm-up"})
    direction_min_timestep: int = field(default=900, metadata={
        "help": "the direction warm-up trains timesteps from this one to the noisiest only"})
    direction_share: float = field(default=0.0, metadata={
        "help": "share of each UNet-stage batch drawn from the warm-up's centred clips at its noisiest timesteps, "
                "so the UNet stage keeps what the warm-up taught"})
    checkpoint_every: int = field(default=250, metadata={"help": "steps between resumable checkpoints"})
    log_every: int = field(default=50, metadata={"help": "steps between loss logs"})
    threads: int = field(default=0, metadata={"help": "torch CPU threads (0: torch's default)"})
    init_from: str = field(default="", metadata={
        "help": "exported model folder to continue from (its VAE is reused, its UNet warm-starts training); "
                "lets a later machine go on from the shipped weights when the run folder is gone"})
    vae_from: str = field(default="", metadata={
        "help": "exported model folder whose VAE is reused instead of training one (the UNet starts fresh "
                "unless --init-from is given); a new UNet then shares the shipped latent space"})

    def __post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {self.preset!r}")
        for name in ("clips", "captions_per_clip", "vae_batch", "unet_batch", "direction_clips", "checkpoint_every",
                     "log_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not 0.0 <= self.caption_dropout < 1.0:
            raise ValueError(f"caption_dropout must be in [0, 1), got {self.caption_dropout}")
        if not 0.0 <= self.attribute_dropout <= 1.0:
            raise ValueError(f"attribute_dropout must be in [0, 1], got {self.attribute_dropout}")
        if not 0.0 <= self.direction_share <= 1.0:
            raise ValueError(f"direction_share must be in [0, 1], got {self.direction_share}")
        if self.decoder_steps < 0:
            raise ValueError(f"decoder_steps must be >= 0, got {self.decoder_steps}")
        if not self.decoder_lr > 0:
            raise ValueError(f"decoder_lr must be > 0, got {self.decoder_lr}")
        if not self.decoder_object_weight >= 0:
            raise ValueError(f"decoder_object_weight must be >= 0, got {self.decoder_object_weight}")
        if not self.decoder_encoder_lr >= 0:
            raise ValueError(f"decoder_encoder_lr must be >= 0, got {self.decoder_encoder_lr}")
        if self.direction_steps < 0:
            raise ValueError(f"direction_steps must be >= 0, got {self.direction_steps}")
        if not 0 <= self.direction_min_timestep < 1000:
            raise ValueError(f"direction_min_timestep must be in [0, 1000), got {self.direction_min_timestep}")

    @property
    def model(self) -> TinyShapesPreset:
        return PRESETS[self.preset]


def apply_gradients(loss: torch.Tensor, model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> None:
    """One optimiser step on ``loss``, gradients clipped to norm 1 (single-process stages)."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()


def lr_at(step: int, peak: float, warmup: int, total: int) -> float:
    """Linear warm-up, then cosine decay to a tenth of the peak."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return peak * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * progress)))


# -- stage 1: data -------------------------------------------------------------

def make_dataset(cfg: TrainConfig, folder: Path) -> None:
    """Render ``cfg.clips`` clips of random scenes, held-out attribute combinations excluded."""
    rng = random.Random(cfg.seed)
    preset = cfg.model
    clips = np.empty((cfg.clips, preset.frames, preset.size, preset.size, 3), dtype=np.uint8)
    lines = []
    start = time.time()
    i = 0
    while i < cfg.clips:
        spec = sample_spec(rng, frames=preset.frames, size=preset.size, two_objects=cfg.two_objects)
        if spec_is_heldout(spec):
            continue
        clips[i] = render(spec)
        lines.append(spec.to_json())
        i += 1
        if i % 2000 == 0:
            logger.info("rendered %d/%d clips (%.0f s)", i, cfg.clips, time.time() - start)
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "clips.tmp.npy", clips)
    (folder / "specs.tmp.jsonl").write_text("\n".join(lines) + "\n")
    (folder / "specs.tmp.jsonl").replace(folder / "specs.jsonl")
    (folder / "clips.tmp.npy").replace(folder / "clips.npy")


def caption_dataset(cfg: TrainConfig, folder: Path) -> list[list[str]]:
    """Several training-vocabulary phrasings of every clip's scene (never the held-out synonyms)."""
    from .captions import captions
    from .spec import NOUN_ATTRIBUTES, WorldSpec

    rng = random.Random(cfg.seed + 1)
    tokenizer = load_tokenizer(TEXT_MAX_LENGTH)

    def fits(text: str) -> bool:  # a truncated caption would teach the model a scene it does not show
        return len(tokenizer(text).input_ids) <= TEXT_MAX_LENGTH

    specs = [WorldSpec.from_json(line) for line in (folder / "specs.jsonl").read_text().splitlines()]
    per_clip = []
    for spec in specs:
        phrasings = captions(spec, rng, n=cfg.captions_per_clip, vocabulary="train", keep=fits)
        # Exactly captions_per_clip each (repeating if a scene has fewer phrasings): training indexes by it.
        chosen = [phrasings[i % len(phrasings)] for i in range(cfg.captions_per_clip)]
        if cfg.attribute_dropout > 0:  # off, it draws nothing more from rng: the data of earlier runs
            for i in range(len(chosen)):
                if rng.random() < cfg.attribute_dropout:
                    omit = [rng.choice(NOUN_ATTRIBUTES)]
                    shorter = captions(spec, rng, n=1, vocabulary="train", keep=fits, omit=omit)
                    chosen[i] = shorter[0] if shorter else chosen[i]
        per_clip.append(chosen)
    return per_clip


def to_model_range(frames_uint8: np.ndarray) -> torch.Tensor:
    """uint8 (..., H, W, 3) → float (..., 3, H, W) in [-1, 1], the VAE's input range."""
    x = torch.from_numpy(np.array(frames_uint8)).float().div(127.5).sub(1.0)  # a copy: clips are mapped read-only
    return x.movedim(-1, -3)


# -- stage 2: VAE --------------------------------------------------------------

def train_vae(cfg: TrainConfig, run: Path, clips: np.ndarray) -> None:
    vae = build_vae(cfg.model)
    optimizer = torch.optim.AdamW(vae.parameters(), lr=cfg.vae_lr, weight_decay=0.0)
    ckpt = run / "vae_checkpoint"
    step = resume_step(ckpt, models={"vae": vae}, optimizer=optimizer, stage="the VAE")
    gen = torch.Generator().manual_seed(cfg.seed + step)
    frames = clips.reshape(-1, *clips.shape[2:])
    vae.train()
    running = 0.0
    while step < cfg.vae_steps:
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, cfg.vae_lr, cfg.warmup, cfg.vae_steps)
        idx = torch.randint(0, len(frames), (cfg.vae_batch,), generator=gen).numpy()
        x = to_model_range(frames[idx])
        posterior = vae.encode(x).latent_dist
        recon = vae.decode(posterior.sample(generator=gen)).sample
        loss = F.mse_loss(recon, x) + 0.5 * F.l1_loss(recon, x) + cfg.vae_kl * posterior.kl().mean()
        apply_gradients(loss, vae, optimizer)
        step += 1
        running += loss.item()
        if step % cfg.log_every == 0:
            psnr = psnr_db(recon.detach(), x)
            logger.info("vae step %d/%d loss %.4f psnr %.1f dB", step, cfg.vae_steps, running / cfg.log_every, psnr)
            running = 0.0
        if step % cfg.checkpoint_every == 0 or step == cfg.vae_steps:
            save_state(ckpt, models={"vae": vae}, optimizer=optimizer, meta={"step": step})
    vae.eval()
    psnr = set_scaling_factor(vae, frames, cfg.seed)
    logger.info("VAE done: PSNR %.1f dB, scaling factor %.3f", psnr, vae.config.scaling_factor)
    vae.save_pretrained(run / "vae")


def set_scaling_factor(vae, frames: np.ndarray, seed: int) -> float:
    """Scale latents to unit variance over 512 random frames, as the UNet's noise schedule assumes;
    returns the PSNR of those frames' reconstructions."""
    with torch.no_grad():
        picked = np.random.default_rng(seed).choice(len(frames), min(512, len(frames)), replace=False)
        sample = to_model_range(frames[picked])
        latents = vae.encode(sample).latent_dist.mode()
        recon = vae.decode(latents).sample
    vae.register_to_config(scaling_factor=float(1.0 / latents.std()))
    return psnr_db(recon, sample)


def psnr_db(recon: torch.Tensor, target: torch.Tensor) -> float:
    """PSNR of images in [-1, 1], in dB."""
    mse = F.mse_loss(recon.clamp(-1, 1), target).item() / 4.0  # rescale to [0, 1]
    return 10.0 * math.log10(1.0 / max(mse, 1e-12))


# -- stage 3: encode -----------------------------------------------------------

def encode_text(tokenizer, text_encoder, texts: list[str]) -> torch.Tensor:
    """MiniLM hidden states exactly as ``AnimateDiffPipeline.encode_prompt`` computes them."""
    tokens = tokenizer(texts, padding="max_length", max_length=tokenizer.model_max_length, truncation=True,
                       return_tensors="pt")
    with torch.no_grad():
        return text_encoder(tokens.input_ids, attention_mask=tokens.attention_mask)[0]


def encode_clips(vae, clips: np.ndarray) -> torch.Tensor:
    """uint8 clips (N, F, H, W, 3) → scaled VAE latents (N, C, F, h, w), the UNet's (and the pipeline's) layout."""
    frames = clips.shape[1]
    pixels = to_model_range(clips.reshape(-1, *clips.shape[2:]))
    with torch.no_grad():
        z = vae.encode(pixels).latent_dist.mode() * vae.config.scaling_factor
    return z.reshape(-1, frames, *z.shape[1:]).permute(0, 2, 1, 3, 4).contiguous()


def encode_dataset(cfg: TrainConfig, run: Path, clips: np.ndarray, captions: list[list[str]]) -> None:
    from diffusers import AutoencoderKL

    vae = AutoencoderKL.from_pretrained(run_vae(run)).eval()
    latents = [encode_clips(vae, clips[start:start + 64]) for start in range(0, len(clips), 64)]
    tokenizer, text_encoder = load_tokenizer(TEXT_MAX_LENGTH), load_text_encoder()
    flat = [c for per_clip in captions for c in per_clip] + [""]
    embeds = []
    start_time = time.time()
    for start in range(0, len(flat), 128):
        embeds.append(encode_text(tokenizer, text_encoder, flat[start:start + 128]).half())
        if start % 6400 == 0:
            logger.info("encoded %d/%d captions (%.0f s)", start, len(flat), time.time() - start_time)
    save_file(
        {"latents": torch.cat(latents), "text": torch.cat(embeds)},
        str(run / "data" / "encoded.tmp.safetensors"),
    )
    (run / "data" / "encoded.tmp.safetensors").replace(run / "data" / "encoded.safetensors")


# -- stage 4: UNet -------------------------------------------------------------

def min_snr_weights(scheduler, timesteps: torch.Tensor, gamma: float) -> torch.Tensor:
    """Min-SNR-γ loss weights for v-prediction (or ε-prediction)."""
    from diffusers.training_utils import compute_snr

    snr = compute_snr(scheduler, timesteps)
    clipped = torch.clamp(snr, max=gamma)
    if scheduler.config.prediction_type == "v_prediction":
        return clipped / (snr + 1.0)
    return clipped / snr


def diffusion_loss(unet, scheduler, x0: torch.Tensor, noise: torch.Tensor, timesteps: torch.Tensor,
                   cond: torch.Tensor, snr_gamma: float) -> torch.Tensor:
    """The denoising loss of one batch of latent clips (v- or epsilon-prediction, optional min-SNR weights)."""
    noisy = scheduler.add_noise(x0, noise, timesteps)
    target = scheduler.get_velocity(x0, noise, timesteps) if scheduler.config.prediction_type == "v_prediction" \
        else noise
    pred = unet(noisy, timesteps, encoder_hidden_states=cond).sample
    per_sample = F.mse_loss(pred.float(), target, reduction="none").mean(dim=(1, 2, 3, 4))
    if snr_gamma > 0:
        per_sample = per_sample * min_snr_weights(scheduler, timesteps, snr_gamma)
    return per_sample.mean()


def _initial_unet(cfg: TrainConfig, run: Path | None = None):
    """Where the UNet stage starts: the direction warm-up's UNet if the run has one, else the warm-start
    model (its architecture and weights, in float32), else the preset's fresh UNet."""
    from diffusers import UNetMotionModel

    warmed = warmed_up_unet(run) if run is not None else None
    if warmed is not None:
        return UNetMotionModel.from_pretrained(warmed, torch_dtype=torch.float32)
    if cfg.init_from:
        return UNetMotionModel.from_pretrained(Path(cfg.init_from) / "unet", torch_dtype=torch.float32)
    return build_unet(cfg.model)


def direction_clips_per_batch(cfg: TrainConfig) -> int:
    """Clips of each UNet-stage batch drawn from the direction warm-up's centred clips."""
    return round(cfg.direction_share * cfg.unet_batch)


def train_unet(cfg: TrainConfig, run: Path) -> None:
    from accelerate import Accelerator

    accelerator = Accelerator(cpu=uses_cpu())
    data = load_file(str(run / "data" / "encoded.safetensors"))
    latents, text = data["latents"], data["text"]
    empty_index = len(text) - 1
    per_clip = cfg.captions_per_clip
    torch.manual_seed(cfg.seed)
    unet = _initial_unet(cfg, run)
    ema = copy.deepcopy(unet).requires_grad_(False)
    optimizer = torch.optim.AdamW(unet.parameters(), lr=cfg.unet_lr, weight_decay=1e-2)
    scheduler = build_train_scheduler(cfg.model)
    ckpt = run / "unet_checkpoint"
    step = 0
    if find_state(ckpt) is not None:
        step = load_state(ckpt, models={"unet": unet, "ema": ema}, optimizer=optimizer)["step"]
        logger.info("resumed UNet at step %d", step)
    elif warmed_up_unet(run) is not None:
        logger.info("started the UNet from the direction warm-up (%s)", warmed_up_unet(run))
    elif cfg.init_from:
        logger.info("warm-started the UNet from %s", cfg.init_from)
    unet, optimizer = accelerator.prepare(unet, optimizer)
    gen = torch.Generator().manual_seed(cfg.seed * 1000 + step * 7 + accelerator.process_index)
    frames = latents.shape[2]
    mixed = direction_clips_per_batch(cfg)
    direction = DirectionBatches.build(cfg, run) if mixed else None
    unet.train()
    running, t0 = 0.0, time.time()
    ema_params = list(ema.parameters())
    while step < cfg.unet_steps:
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, cfg.unet_lr, cfg.warmup, cfg.unet_steps)
        idx = torch.randint(0, len(latents), (cfg.unet_batch,), generator=gen)
        caption_idx = idx * per_clip + torch.randint(0, per_clip, (cfg.unet_batch,), generator=gen)
        drop = torch.rand(cfg.unet_batch, generator=gen) < cfg.caption_dropout
        caption_idx[drop] = empty_index
        x0, cond = latents[idx], text[caption_idx].float()
        noise = torch.randn(x0.shape, generator=gen)
        timesteps = torch.randint(0, scheduler.config.num_train_timesteps, (cfg.unet_batch,), generator=gen)
        if mixed:  # off, nothing more is drawn from gen: the batches of earlier runs
            drawn = direction.draw(mixed, gen, scheduler.config.num_train_timesteps)
            x0, cond, noise, timesteps = (torch.cat([d, b[mixed:]]) for d, b in zip(drawn, (x0, cond, noise, timesteps),
                                                                                   strict=True))
        cond = cond.repeat_interleave(frames, dim=0)  # the pipeline gives each frame its prompt
        loss = diffusion_loss(unet, scheduler, x0, noise, timesteps, cond, cfg.snr_gamma)
        optimizer.zero_grad(set_to_none=True)
        accelerator.backward(loss)
        accelerator.clip_grad_norm_(unet.parameters(), 1.0)
        optimizer.step()
        step += 1
        with torch.no_grad():
            decay = min(cfg.ema_decay, (1 + step) / (10 + step))
            torch._foreach_lerp_(ema_params, list(accelerator.unwrap_model(unet).parameters()), 1.0 - decay)
        running += loss.item()
        if step % cfg.log_every == 0 and accelerator.is_main_process:
            rate = cfg.log_every / (time.time() - t0)
            logger.info("unet step %d/%d loss %.4f lr %.2e %.2f steps/s", step, cfg.unet_steps,
                        running / cfg.log_every, optimizer.param_groups[0]["lr"], rate)
            running, t0 = 0.0, time.time()
        if (step % cfg.checkpoint_every == 0 or step == cfg.unet_steps) and accelerator.is_main_process:
            save_state(ckpt, models={"unet": accelerator.unwrap_model(unet), "ema": ema}, optimizer=optimizer,
                       meta={"step": step, "config": asdict(cfg)})
    accelerator.wait_for_everyone()


# -- stage 5: export -----------------------------------------------------------

def export(cfg: TrainConfig, run: Path, target: Path) -> Path:
    """Write the shippable folder: EMA UNet, VAE, sampling scheduler and the model card."""
    from diffusers import AutoencoderKL

    from ..models import model_card, save_tiny_shapes_format

    ema = _initial_unet(cfg, run)  # only the EMA weights are shipped
    if find_state(run / "unet_checkpoint") is None and cfg.init_from and warmed_up_unet(run) is None:
        # No UNet stage in this run (say, only a new decoder): the warm-start model's UNet ships unchanged.
        if cfg.decoder_encoder_lr > 0:
            raise ValueError("decoder_encoder_lr > 0 changed the latent space, so the warm-start UNet no longer "
                             "fits it: run the encode and unet stages before exporting")
        init_card = model_card(cfg.init_from)
        unet_steps = init_card["unet_steps"]
        unet_config = init_card.get("unet_train_config", init_card["train_config"])
    else:
        unet_config = None
        unet_steps = load_state(run / "unet_checkpoint", models={"ema": ema}, optimizer=None)["step"]
    ema.to(torch.float16)  # half the download; loading computes in float32
    card = {
        "name": "tiny-shapes",
        "size": cfg.model.size,
        "frames": cfg.model.frames,
        "fps": 8,
        "text_max_length": TEXT_MAX_LENGTH,
        "unet_steps": unet_steps,
        "train_config": asdict(cfg),
    }
    if unet_config is not None:
        card["unet_train_config"] = unet_config  # the run that trained the shipped UNet
    return save_tiny_shapes_format(target, unet=ema, vae=AutoencoderKL.from_pretrained(run_vae(run)),
                                   scheduler=build_sample_scheduler(cfg.model), card=card)


# -- driver --------------------------------------------------------------------

def refuse_stale_latents(run: Path) -> None:
    """A new encoder would leave this run's cached latents and UNets on the old latent space, and
    the stages that make them skip once their output exists: ask for a fresh run folder instead."""
    made = (run / "data" / "encoded.safetensors", run / DIRECTION_DATA, warmed_up_unet(run),
            find_state(run / "unet_checkpoint"))
    stale = [p for p in made if p is not None and p.exists()]
    if stale:
        raise ValueError(f"decoder_encoder_lr > 0 would change the latent space under {', '.join(map(str, stale))}; "
                         "train the encoder in a fresh --out folder (it can start from --init-from)")


def run(cfg: TrainConfig, stages: tuple[str, ...] = STAGES, export_to: Path | None = None) -> None:
    """Run ``stages`` in order. Under ``accelerate launch`` the UNet stage trains on every process;
    the others write shared files, so the main process runs them while the rest wait."""
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    state = process_state()
    run_dir = Path(cfg.out)
    if state.is_main_process:
        prepare(cfg, run_dir, stages)
    state.wait_for_everyone()
    if "unet" in stages:
        train_unet(cfg, run_dir)
    if "export" in stages and state.is_main_process:
        path = export(cfg, run_dir, export_to or run_dir / "tiny-shapes")
        logger.info("exported %s", path)


def prepare(cfg: TrainConfig, run_dir: Path, stages: tuple[str, ...]) -> None:
    """The single-process stages before the UNet stage: data, VAE, decoder, encode, direction warm-up."""
    data_dir = run_dir / "data"
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.json").write_text(json.dumps(asdict(cfg), indent=2))
    if "data" in stages and not (data_dir / "clips.npy").exists():
        make_dataset(cfg, data_dir)
    tune_decoder = "decoder" in stages and cfg.decoder_steps > 0 and not (run_dir / TUNED_VAE / "config.json").exists()
    if tune_decoder and cfg.decoder_encoder_lr > 0:
        refuse_stale_latents(run_dir)
    needs_data = tune_decoder or any(s in stages for s in ("vae", "encode"))
    clips = np.load(data_dir / "clips.npy", mmap_mode="r") if needs_data else None
    vae_source = cfg.vae_from or cfg.init_from
    if vae_source and not (run_dir / "vae" / "config.json").exists():
        from diffusers import AutoencoderKL

        AutoencoderKL.from_pretrained(Path(vae_source) / "vae").save_pretrained(run_dir / "vae")
    if "vae" in stages and not (run_dir / "vae" / "config.json").exists():
        train_vae(cfg, run_dir, np.asarray(clips))
    if tune_decoder:
        finetune_decoder(cfg, run_dir, clips)
    if "encode" in stages and not (data_dir / "encoded.safetensors").exists():
        caps = caption_dataset(cfg, data_dir)
        encode_dataset(cfg, run_dir, np.asarray(clips), caps)
    if "direction" in stages and cfg.direction_steps > 0 and warmed_up_unet(run_dir) is None:
        warm_up_directions(cfg, run_dir, _initial_unet(cfg))
    if "unet" in stages and direction_clips_per_batch(cfg):
        DirectionBatches.build(cfg, run_dir)  # cached here, so the UNet stage's processes only read it


def parse_args(argv: list[str] | None = None) -> tuple[TrainConfig, tuple[str, ...], Path | None]:
    parser = argparse.ArgumentParser(prog="python -m t2v.world.train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    for f in fields(TrainConfig):
        parser.add_argument(f"--{f.name.replace('_', '-')}", type=type(f.default), default=f.default,
                            help=f.metadata.get("help"))
    parser.add_argument("--stage", action="append", choices=STAGES,
                        help="run only these stages (repeatable); default: all")
    parser.add_argument("--export", type=Path, default=None, help="folder to export the model to")
    args = parser.parse_args(argv)
    values = {f.name: getattr(args, f.name) for f in fields(TrainConfig)}
    return TrainConfig(**values), tuple(args.stage or STAGES), args.export


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    cfg, stages, export_to = parse_args(argv)
    run(cfg, stages, export_to)


if __name__ == "__main__":
    main()
