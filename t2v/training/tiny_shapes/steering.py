"""How much a text-to-video model's words, rather than its noisy input, decide which way an object moves.

Rendered one-object clips that move left, right, up or down are encoded, noised to a timestep,
and the model predicts the clean clip under the clip's own caption and under the same caption
with the direction word reversed (the *antonym*). ``steer`` compares the drift of the object's
centroid in the two predictions: 1 when the words alone decide the direction, 0 when the model
ignores them and follows the motion already visible in the noise. ``benchmarks/tiny_shapes_direction.py``
prints it; it explains reversed motion in a minute instead of a full quality benchmark.
"""

from __future__ import annotations

import random

import numpy as np
import torch

from ...world.captions import canonical_caption
from ...world.render import render
from ...world.sampling import sample_spec
from ...world.spec import BACKGROUNDS, TRANSLATIONS, WorldSpec
from ..common import encode_clips, encode_text, to_model_range

ANTONYMS = {"left": "right", "right": "left", "up": "down", "down": "up"}
TIMESTEPS = (990, 950, 850, 700, 500)


def directional_specs(n: int, seed: int, frames: int, size: int) -> list[WorldSpec]:
    """One-object scenes on a plain background, static camera, moving left, right, up or down."""
    rng = random.Random(seed)
    specs = []
    while len(specs) < n:
        spec = sample_spec(rng, frames=frames, size=size, two_objects=0.0)
        if spec.objects[0].motion in ANTONYMS and spec.background != "checkered" and spec.camera == "static":
            specs.append(spec)
    return specs


def drift(frames: torch.Tensor, background: tuple[int, int, int], direction: str) -> float:
    """Pixels per frame that the centroid of non-background colour moves along ``direction``."""
    bg = to_model_range(np.array(background, dtype=np.uint8).reshape(1, 1, 3)).view(1, 3, 1, 1)
    weight = (frames - bg).abs().sum(dim=1)  # F, H, W
    height, width = weight.shape[-2:]
    total = weight.sum(dim=(1, 2)).clamp_min(1e-6)
    ys = (weight * torch.arange(height).view(1, -1, 1)).sum(dim=(1, 2)) / total
    xs = (weight * torch.arange(width).view(1, 1, -1)).sum(dim=(1, 2)) / total
    dx, dy = TRANSLATIONS[direction]
    along = (xs * dx + ys * dy).numpy()
    return float(np.polyfit(np.arange(len(along)), along, 1)[0])


def predicted_clean(scheduler, noisy: torch.Tensor, model_output: torch.Tensor, t: int) -> torch.Tensor:
    """The clean latents a UNet output implies at timestep ``t`` (v- or epsilon-prediction)."""
    alpha = scheduler.alphas_cumprod[t].sqrt()
    sigma = (1 - scheduler.alphas_cumprod[t]).sqrt()
    if scheduler.config.prediction_type == "v_prediction":
        return alpha * noisy - sigma * model_output
    return (noisy - sigma * model_output) / alpha


@torch.no_grad()
def measure_steering(pipe, specs, timesteps: tuple[int, ...] = TIMESTEPS, seed: int = 0) -> dict[str, dict[str, float]]:
    """Drift under the caption and under its antonym, the true drift, and ``steer``, per timestep."""
    from diffusers import DDPMScheduler

    vae, unet = pipe.vae, pipe.unet
    scheduler = DDPMScheduler.from_config(pipe.scheduler.config)  # the sampler's own noise schedule
    rows: dict[int, list[tuple[float, float, float]]] = {t: [] for t in timesteps}
    for i, spec in enumerate(specs):
        motion = spec.objects[0].motion
        if motion not in ANTONYMS or len(spec.objects) != 1:
            raise ValueError(f"specs must hold one object moving {sorted(ANTONYMS)}; spec {i} does not")
        clip = render(spec)
        background = BACKGROUNDS[spec.background]
        true_drift = drift(to_model_range(clip), background, motion)
        latents = encode_clips(vae, clip[None])
        caption = canonical_caption(spec)
        antonym = caption.replace(f"moving {motion}", f"moving {ANTONYMS[motion]}")
        if antonym == caption:  # a silent no-op would read as "the words steer nothing"
            raise RuntimeError(f"no 'moving {motion}' to reverse in the caption {caption!r}")
        embeds = encode_text(pipe.tokenizer, pipe.text_encoder, [caption, antonym])
        frames = latents.shape[2]
        for t in timesteps:
            noise = torch.randn(latents.shape, generator=torch.Generator().manual_seed(seed + i))
            timestep = torch.tensor([t])
            noisy = scheduler.add_noise(latents, noise, timestep)
            drifts = []
            for embed in embeds:
                output = unet(noisy, timestep, encoder_hidden_states=embed[None].repeat(frames, 1, 1)).sample
                clean = predicted_clean(scheduler, noisy, output, t)[0].permute(1, 0, 2, 3)
                drifts.append(drift(vae.decode(clean / vae.config.scaling_factor).sample, background, motion))
            rows[t].append((drifts[0], drifts[1], true_drift))
    report: dict[str, dict[str, float]] = {}
    for t, per_clip in rows.items():
        caption_drift, antonym_drift, truth = (float(np.mean(column)) for column in zip(*per_clip, strict=True))
        report[f"t={t}"] = {"caption": round(caption_drift, 3), "antonym": round(antonym_drift, 3),
                            "true": round(truth, 3), "steer": round((caption_drift - antonym_drift) / (2 * truth), 4)}
    return report
