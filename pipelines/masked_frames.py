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

import numbers
from collections.abc import Callable, Sequence

import numpy as np
import torch
from diffusers.utils.torch_utils import randn_tensor

from ..editing.composite import keep_unchanged
from ..training.common import video_in_model_range
from .denoising import StepHooks

MAX_RESAMPLE_ROUNDS = 10
# A bridge frame's departure from the VAE's own rendering of the dissolve (levels of 255, largest channel) under the
# first figure is taken as that VAE's, not as something the model drew, and dropped; from the second up it is kept
# whole, linearly in between. A threshold chosen on tiny-shapes' dev pairs over (16, 32) and (32, 64) (README).
DEPARTURE_LEVELS = (24.0, 48.0)


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

    def given_frame_hooks(self, given: torch.Tensor, pinned_steps: torch.Tensor, timesteps: torch.Tensor,
                          generator: torch.Generator | None, resample_rounds: int) -> StepHooks:
        """Hooks that pin latent frame k to ``given`` at each step's noise level after each of the first
        ``pinned_steps[k]`` steps (an int per latent frame, ``(1, 1, F', 1, 1)``): every step for a given frame,
        none for a free one, the first part of the steps for a guide's frame, then it is left free."""
        backbone = self.backbone
        levels = [int(t) for t in timesteps[1:]] + [None]

        def fresh_noise() -> torch.Tensor:
            return randn_tensor(given.shape, generator=generator, device=given.device, dtype=given.dtype)

        def pin(i: int, t: int, latents: torch.Tensor) -> torch.Tensor:
            level = levels[i]
            pinned = given if level is None else backbone.add_noise(given, fresh_noise(), level)
            return torch.where(pinned_steps > i, pinned, latents)

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
        guide: np.ndarray | None = None,
        guide_strength: Sequence[float] | None = None,
    ) -> np.ndarray:
        """``num_frames`` frames, uint8 ``(F, H, W, 3)``, with ``given[j]`` at frame ``given_indices[j]``; with
        nothing given this is plain generation (the stock pipeline's result for the same generator).
        ``record``, when given, receives the starting noise and the final latents (for scene continuity).

        ``guide`` (``num_frames`` frames) steers the free frames the way SDEdit steers one image, frame by
        frame: free frame k follows the guide's latents, noised to each step's level, for the first
        ``1 - guide_strength[k]`` of the steps, then is denoised freely (strength 1: not guided; 0: the
        guide's frame as the VAE gives it back). Given frames stay pinned throughout."""
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
        if (guide is None) != (guide_strength is None):
            raise ValueError("guide and guide_strength go together")
        if guide is not None:
            guide = to_uint8_frames(guide, "guide")
            try:
                strengths = [float(x) for x in guide_strength]
            except (TypeError, ValueError):
                raise ValueError(f"guide_strength must be one number in [0, 1] per frame, got {guide_strength!r}") \
                    from None
            guide_strength = strengths
            if len(guide) != num_frames or len(strengths) != num_frames:
                raise ValueError(f"guide and guide_strength must have num_frames={num_frames} entries, got "
                                 f"{len(guide)} and {len(strengths)}")
            if not all(0.0 <= x <= 1.0 for x in strengths):
                raise ValueError(f"guide_strength must be in [0, 1], got {strengths}")
            if given is not None and guide.shape[1:] != given.shape[1:]:
                raise ValueError(f"guide frames must match the given frames' size, got {guide.shape[1:3]}")
        height, width = self.native_frame_size
        if given is not None or guide is not None:
            height, width = (given if given is not None else guide).shape[1:3]
            if height % self.size_multiple or width % self.size_multiple:
                raise ValueError(f"{'given frames' if given is not None else 'guide frames'} must have sides "
                                 f"divisible by {self.size_multiple}, got {height}x{width}")
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
        if guide is not None:
            latents, hooks = self.guided_start(latents, guide, guide_strength, given, given_indices, timesteps,
                                               generator, resample_rounds)
        elif given is not None:
            placed, mask = self.encode_given(given, given_indices, num_frames, latents)
            hooks = self.given_frame_hooks(placed, torch.where(mask, len(timesteps), 0), timesteps, generator,
                                           resample_rounds)
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

    def guided_start(self, noise: torch.Tensor, guide: np.ndarray, guide_strength: Sequence[float],
                     given: np.ndarray | None, given_indices: Sequence[int], timesteps: torch.Tensor,
                     generator: torch.Generator | None, resample_rounds: int) -> tuple[torch.Tensor, StepHooks]:
        """The starting latents and hooks of a guided generation: the guide with the given frames put in, each
        latent frame pinned for its share of the steps (a latent frame that holds several pixel frames takes
        their mean strength; one that holds a given frame, all the steps)."""
        frames = guide.copy()
        for j, k in enumerate(given_indices):
            frames[k] = given[j]
        placed, _ = self.encode_given(frames, list(range(len(frames))), len(frames), noise)
        steps = len(timesteps)
        per_latent: dict[int, list[float]] = {}
        for k, strength in enumerate(guide_strength):
            per_latent.setdefault(self.backbone.latent_frame_of(k), []).append(float(strength))
        pinned_steps = torch.zeros(1, 1, noise.shape[2], 1, 1, dtype=torch.long, device=noise.device)
        for frame, strengths in per_latent.items():
            pinned_steps[:, :, frame] = round((1.0 - float(np.mean(strengths))) * steps)
        guided = pinned_steps > 0  # free frames that start from the guide (given frames start as noise, as unguided)
        for k in given_indices:
            pinned_steps[:, :, self.backbone.latent_frame_of(k)] = steps
            guided[:, :, self.backbone.latent_frame_of(k)] = False
        start = self.backbone.add_noise(placed, noise / self.start_noise_scale, int(timesteps[0]))
        latents = torch.where(guided, start, noise)
        return latents, self.given_frame_hooks(placed, pinned_steps, timesteps, generator, resample_rounds)

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
                      num_frames: int, prompt: str | None = None, *,
                      guide_strength: tuple[float, float] | None | str = "default",
                      generated_share: float | None | str = "default", **kwargs) -> np.ndarray:
        """``num_frames`` generated frames from the last frames of A to the first of B; prompts move from A's
        to B's across the bridge (through ``prompt`` in the middle, when one is given).

        ``guide_strength=(ends, middle)`` guides the bridge by the dissolve from A's last frame to B's first
        (see ``guide`` in :meth:`generate_with_given`): bridge frame j of n is free for the last
        ``ends + (middle - ends)·sin(πj/(n+1))`` of the steps, so frames next to the clips stay close to the
        dissolve and the middle is free to draw ``prompt``. ``"default"``: the pipeline's
        ``default_guide_strength``; None: unguided. On Wan a latent frame holds four pixel frames and one that
        holds a given frame is pinned throughout, so the bridge frames sharing B's first chunk stay the
        dissolve's whatever the strength (not measured on a Wan model; Wan's default is unguided).

        ``generated_share``: the weight of what the model drew beyond the dissolve, rising linearly from the
        ends to this share at the middle, over the exact dissolve (see :func:`mix_over_dissolve`). The model
        draws objects whole, so a bridge that shows them whole jumps where they appear; mixed in, they fade in
        and out. Even 1.0 ramps and drops faint departures; only None gives the model's frames as decoded.
        ``"default"``: the pipeline's ``default_generated_share`` (chosen on tiny-shapes)."""
        if is_default(generated_share):
            generated_share = self.default_generated_share
        generated_share = checked_share(generated_share)
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
        if is_default(guide_strength):
            guide_strength = self.default_guide_strength
        if guide_strength is not None:
            kwargs["guide"], kwargs["guide_strength"] = dissolve_guide(end_of_a, start_of_b, num_frames,
                                                                       guide_strength)
        frames = self.generate_with_given(keys, window, given, indices, **kwargs)
        bridge = frames[len(end_of_a): len(end_of_a) + num_frames]
        if generated_share is None:
            return bridge
        dissolve = linear_dissolve(end_of_a[-1], start_of_b[0], num_frames)
        decoded = self.through_vae(np.concatenate([end_of_a, dissolve, start_of_b]))
        return mix_over_dissolve(bridge, dissolve, decoded[len(end_of_a): len(end_of_a) + num_frames],
                                 generated_share)

    @torch.no_grad()
    def through_vae(self, frames: np.ndarray) -> np.ndarray:
        """uint8 frames ``(F, H, W, 3)`` encoded and decoded by the pipeline's VAE (a whole video on Wan)."""
        like = torch.zeros(self.latent_shape(len(frames), *frames.shape[1:3]), device=self._execution_device,
                           dtype=self.vae.dtype)
        latents, _ = self.encode_given(frames, list(range(len(frames))), len(frames), like)
        return self.decode_to_uint8(latents)


def is_default(value) -> bool:
    """Whether an argument is the string ``"default"`` (the pipeline's own setting)."""
    return isinstance(value, str) and value == "default"


def checked_share(share, name: str = "generated_share") -> float | None:
    """``share`` as a float in [0, 1] (or None), else a ValueError naming ``name``."""
    if share is None:
        return None
    if isinstance(share, bool) or not isinstance(share, numbers.Real) or not 0.0 <= float(share) <= 1.0:
        raise ValueError(f"{name} must be a number in [0, 1] or None, got {share!r}")
    return float(share)


def checked_guide_strength(guide_strength, name: str = "guide_strength") -> tuple[float, float]:
    """``(ends, middle)``, two numbers in [0, 1], else a ValueError naming ``name``."""
    try:
        ends, middle = (float(x) for x in guide_strength)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be two numbers (ends, middle), got {guide_strength!r}") from None
    if not (0.0 <= ends <= 1.0 and 0.0 <= middle <= 1.0):
        raise ValueError(f"{name} must be in [0, 1], got {guide_strength!r}")
    return ends, middle


def dissolve_guide(end_of_a: np.ndarray, start_of_b: np.ndarray, num_frames: int,
                   guide_strength: tuple[float, float]) -> tuple[np.ndarray, list[float]]:
    """The window of a guided bridge: A's frames, the linear dissolve from A's last frame to B's first, B's
    frames; and each window frame's strength (0 on the given frames, the sine profile of
    :meth:`MaskedFramesMixin.bridge_frames` on the bridge)."""
    ends, middle = checked_guide_strength(guide_strength)
    guide = np.concatenate([end_of_a, linear_dissolve(end_of_a[-1], start_of_b[0], num_frames), start_of_b])
    strength = ends + (middle - ends) * np.sin(np.pi * np.arange(1, num_frames + 1) / (num_frames + 1))
    return guide, [0.0] * len(end_of_a) + strength.tolist() + [0.0] * len(start_of_b)


def mix_over_dissolve(bridge: np.ndarray, dissolve: np.ndarray, decoded_dissolve: np.ndarray,
                      share: float) -> np.ndarray:
    """A bridge shown as the exact dissolve plus a share of what the model drew beyond it.

    Bridge frame k of n is ``dissolve_k + τ_k·(bridge_k - decoded_dissolve_k)``, with ``τ_k = share·min(k,
    n+1-k)/⌈n/2⌉``: the model's departure from the VAE's own rendering of the dissolve, so the VAE's error on
    the dissolve (a decoder that snaps an in-between background to one it knows) cancels, and the departure
    fades in from the ends and out towards them. A departure under ``DEPARTURE_LEVELS[0]`` is dropped, one over
    ``DEPARTURE_LEVELS[1]`` kept whole, linearly in between (:func:`~t2v.editing.composite.keep_unchanged`).
    All three are uint8 ``(n, H, W, 3)``; ``share`` is in [0, 1]."""
    if not bridge.shape == dissolve.shape == decoded_dissolve.shape:
        raise ValueError(f"bridge {bridge.shape}, dissolve {dissolve.shape} and decoded dissolve "
                         f"{decoded_dissolve.shape} must have one shape")
    if not bridge.dtype == dissolve.dtype == decoded_dissolve.dtype == np.uint8:
        raise ValueError("bridge, dissolve and decoded dissolve must be uint8 frames")
    share = checked_share(share, "share")
    if share is None:
        raise ValueError("share must be a number in [0, 1], got None")
    reference = video_in_model_range(decoded_dissolve)
    departure = keep_unchanged(video_in_model_range(bridge), reference, *DEPARTURE_LEVELS) - reference
    n = len(bridge)
    ramp = share * np.minimum(np.arange(1, n + 1), np.arange(n, 0, -1)) / -(-n // 2)
    mixed = dissolve.astype(np.float64) + ramp[:, None, None, None] * departure[0].permute(1, 2, 3, 0).numpy() * 127.5
    return np.clip(np.rint(mixed), 0, 255).astype(np.uint8)


def linear_dissolve(first: np.ndarray, last: np.ndarray, num_frames: int) -> np.ndarray:
    """The ``num_frames`` uint8 frames strictly between ``first`` and ``last`` of a linear dissolve: frame k of
    n is ``(1 - k/(n+1))·first + k/(n+1)·last``, rounded."""
    weight = (np.arange(1, num_frames + 1) / (num_frames + 1))[:, None, None, None]
    return np.rint((1 - weight) * first.astype(np.float64) + weight * last.astype(np.float64)).astype(np.uint8)
