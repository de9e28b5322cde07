"""Masked temporal inpainting: some frames are given, the others are generated around them.

The one mechanism behind transitions, image-to-video and clip continuation (SEINE's task, done here
without training, RePaint-style): the given frames are encoded once; after every denoising step their
latents are replaced by the given latents noised to the level the step reached (the clean latents after
the last step), so the free frames are denoised next to them and join them smoothly. Optional
resampling rounds (RePaint) step back up one level and denoise the step again, giving the free frames
more chances to agree with the given ones. Per-frame prompts come from the time-varying prompt mixin.

Everything goes through the backbone seam (noise to a level, latent normalisation, which latent frame
holds a pixel frame), so a later backbone reuses it as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from diffusers.utils.torch_utils import randn_tensor

from .denoising import StepHooks

MAX_RESAMPLE_ROUNDS = 10


def to_uint8_frames(frames: np.ndarray, name: str) -> np.ndarray:
    """``(K, H, W, 3)`` uint8 (or float in [0, 1]) frames, checked; a single image becomes one frame."""
    array = np.asarray(frames)
    if array.ndim == 3:
        array = array[None]
    if array.ndim != 4 or array.shape[-1] != 3 or len(array) == 0:
        raise ValueError(f"{name} must be frames (K, H, W, 3) or one image (H, W, 3), got shape {array.shape}")
    if array.dtype != np.uint8:
        if not np.issubdtype(array.dtype, np.floating) or array.min() < 0 or array.max() > 1:
            raise ValueError(f"{name} must be uint8 or float in [0, 1]")
        array = np.rint(array * 255).astype(np.uint8)
    return array


class MaskedFramesMixin:
    """For t2v pipelines (T2VAnimateDiffPipeline or T2VWanPipeline) with the t2v denoising and time-varying
    prompt mixins."""

    def given_frame_hooks(self, given: torch.Tensor, mask: torch.Tensor, timesteps: torch.Tensor,
                          generator: torch.Generator | None, resample_rounds: int) -> StepHooks:
        """Hooks that pin the frames where ``mask`` is set to ``given`` at every step's noise level."""
        backbone = self.backbone
        levels = [int(t) for t in timesteps[1:]] + [None]

        def fresh_noise() -> torch.Tensor:
            return randn_tensor(given.shape, generator=generator, device=given.device, dtype=given.dtype)

        def pin(i: int, t: int, latents: torch.Tensor) -> torch.Tensor:
            level = levels[i]
            pinned = given if level is None else backbone.add_noise(given, fresh_noise(), level)
            return torch.where(mask, pinned, latents)

        def step_back(i: int, t: int, latents: torch.Tensor) -> torch.Tensor:
            """From the level s step i reached back up to step i's level t: x_t = (α_t/α_s)·x_s + √(σ_t² -
            (α_t/α_s)²·σ_s²)·ε (with α² + σ² = 1 this is RePaint's √(ᾱ_t/ᾱ_s)·x_s + √(1-ᾱ_t/ᾱ_s)·ε)."""
            alpha_t, sigma_t = backbone.level(t, latents)
            alpha_s, sigma_s = backbone.level(levels[i], latents)
            ratio = alpha_t / alpha_s
            return ratio * latents + (sigma_t ** 2 - (ratio * sigma_s) ** 2).clamp_min(0).sqrt() * fresh_noise()

        return StepHooks(after_step=pin, resample_rounds=resample_rounds,
                         resample=step_back if resample_rounds else None)

    @torch.no_grad()
    def generate_with_given(
        self,
        prompt: str | dict[int, str],
        num_frames: int,
        given: np.ndarray | None = None,
        given_indices: Sequence[int] = (),
        *,
        num_inference_steps: int = 25,
        guidance_scale: float | None = None,
        negative_prompt: str | None = None,
        generator: torch.Generator | None = None,
        resample_rounds: int = 0,
        callback_on_step_end: Callable | None = None,
        record: dict | None = None,
    ) -> np.ndarray:
        """``num_frames`` frames, uint8 ``(F, H, W, 3)``, with ``given[j]`` at frame ``given_indices[j]``; with
        nothing given this is plain generation (the stock pipeline's result for the same generator).
        ``record``, when given, receives the starting noise and the final latents (for scene continuity)."""
        given_indices = list(given_indices)
        guidance_scale = self.default_guidance_scale if guidance_scale is None else guidance_scale
        self.check_frame_count(num_frames)
        if isinstance(num_inference_steps, bool) or not isinstance(num_inference_steps, int) or not (
                1 <= num_inference_steps <= 1000):
            raise ValueError(f"num_inference_steps must be in [1, 1000], got {num_inference_steps!r}")
        if not 0 <= resample_rounds <= MAX_RESAMPLE_ROUNDS:
            raise ValueError(f"resample_rounds must be in [0, {MAX_RESAMPLE_ROUNDS}], got {resample_rounds}")
        if resample_rounds and type(self.scheduler).__name__ != "DDIMScheduler":
            raise ValueError("resample_rounds needs a stateless DDIMScheduler, got "
                             f"{type(self.scheduler).__name__}")
        if given is not None:
            given = to_uint8_frames(given, "given frames")
            if len(given) != len(given_indices) or len(set(given_indices)) != len(given_indices):
                raise ValueError(f"given_indices must name one distinct frame per given frame, got {given_indices}")
            if any(not 0 <= k < num_frames for k in given_indices):
                raise ValueError(f"given_indices must be in [0, {num_frames - 1}], got {given_indices}")
        elif given_indices:
            raise ValueError("given_indices needs given frames")
        height, width = self.native_frame_size
        if given is not None:
            height, width = given.shape[1:3]
            if height % self.size_multiple or width % self.size_multiple:
                raise ValueError(f"given frames must have sides divisible by {self.size_multiple}, got "
                                 f"{height}x{width}")
        device = self._execution_device
        self._cross_attention_kwargs, self._clip_skip, self._interrupt = None, None, False
        embeds = self.encode_time_varying_prompt(prompt, num_frames, device, guidance_scale > 1.0, negative_prompt)
        self.scheduler.set_timesteps(num_inference_steps, device=device)
        timesteps = self.scheduler.timesteps
        latents = randn_tensor(self.latent_shape(num_frames, height, width), generator=generator, device=device,
                               dtype=self.noise_dtype(embeds))
        latents = latents * self.start_noise_scale
        if record is not None:
            record["start_latents"] = latents.detach().cpu()
        hooks = StepHooks()
        if given is not None:
            placed, mask = self.encode_given(given, given_indices, num_frames, latents)
            hooks = self.given_frame_hooks(placed, mask, timesteps, generator, resample_rounds)
        added = None
        if self.has_ip_adapter:  # the UNet then needs image embeddings: empty ones, with the adapter held at 0
            added = {"image_embeds": self.empty_image_embeds(device, guidance_scale > 1.0)}
        with self.ip_adapter_off(added is not None):
            latents = self.denoise(latents, embeds, timesteps, guidance_scale, hooks=hooks, added_cond_kwargs=added,
                                   extra_step_kwargs=self.prepare_extra_step_kwargs(generator, 0.0),
                                   callback_on_step_end=callback_on_step_end)
        if record is not None:
            record["latents"] = latents.detach().cpu()
        return self.decode_to_uint8(latents)

    def continue_frames(self, clip: np.ndarray, prompt: str, num_new: int, *, context: int | None = None,
                        **kwargs) -> np.ndarray:
        """``num_new`` frames that carry on from the last ``context`` frames of ``clip`` (default: the
        pipeline's ``default_context``), a window at a time, so a video can run past the model's length;
        returns only the new frames."""
        clip = to_uint8_frames(clip, "clip")
        window = self.frame_limit
        context = self.default_context if context is None else context
        if not 1 <= context < window:
            raise ValueError(f"context must be in [1, {window - 1}], got {context}")
        if num_new < 1:
            raise ValueError(f"num_frames must be >= 1, got {num_new}")
        if len(clip) < context:
            raise ValueError(f"the clip has {len(clip)} frames, fewer than context={context}")
        made: list[np.ndarray] = []
        tail = clip[-context:]
        while sum(len(m) for m in made) < num_new:
            # The last window is only as long as it must be (rounded up to a length the model takes), so its
            # last frame is the clip's last frame.
            missing = num_new - sum(len(m) for m in made)
            length = min(window, self.valid_frame_count(context + missing))
            frames = self.generate_with_given(prompt, length, tail, list(range(context)), **kwargs)
            new = frames[context:][:missing]
            made.append(new)
            tail = np.concatenate([tail, new])[-context:]
        return np.concatenate(made)

    def check_bridge_length(self, num_frames: int, given: int, name: str = "num_frames") -> None:
        """A bridge of ``num_frames`` between ``given`` frames must make a window one pass can take (any length
        up to the model's on AnimateDiff; ``4k+1`` on Wan): a ValueError naming ``name`` and the values that fit."""
        fits = [n for n in range(1, self.frame_limit - given + 1) if self.valid_frame_count(n + given) == n + given]
        if num_frames not in fits:
            shown = ", ".join(map(str, fits[:6])) + (", ..." if len(fits) > 6 else "")
            raise ValueError(f"{name} must be one of {shown} (with the {given} given frames, a length of the model's "
                             f"up to {self.frame_limit}), got {num_frames}")

    def bridge_frames(self, end_of_a: np.ndarray, start_of_b: np.ndarray, prompt_a: str, prompt_b: str,
                      num_frames: int, prompt: str | None = None, **kwargs) -> np.ndarray:
        """``num_frames`` generated frames from the last frames of A to the first of B; prompts move from A's
        to B's across the bridge (through ``prompt`` in the middle, when one is given)."""
        end_of_a, start_of_b = to_uint8_frames(end_of_a, "clip A"), to_uint8_frames(start_of_b, "clip B")
        if end_of_a.shape[1:] != start_of_b.shape[1:]:
            raise ValueError(f"clips A and B must have the same frame size, got {end_of_a.shape[1:3]} and "
                             f"{start_of_b.shape[1:3]}")
        self.check_bridge_length(num_frames, len(end_of_a) + len(start_of_b))
        window = len(end_of_a) + num_frames + len(start_of_b)
        keys = {0: prompt_a, window - 1: prompt_b}
        if prompt:
            keys[window // 2] = prompt
        given = np.concatenate([end_of_a, start_of_b])
        indices = list(range(len(end_of_a))) + list(range(window - len(start_of_b), window))
        frames = self.generate_with_given(keys, window, given, indices, **kwargs)
        return frames[len(end_of_a): len(end_of_a) + num_frames]
