"""``T2VWanPipeline``: diffusers' ``WanPipeline`` with the model's native settings and Wan's shape rules.

Like :class:`~t2v.pipelines.T2VAnimateDiffPipeline`, the native frame count, size, fps and guidance are
``__init__`` arguments, so ``model_index.json`` carries them and ``__call__`` uses them where the caller
leaves a value unset (diffusers' Wan defaults: 81 frames, 480×832, 16 fps, guidance 5). Wan's shape rules
are checked up front with errors that name the argument: frames ``4k+1`` (the causal VAE keeps frame 0
alone and packs 4 frames per latent frame), height and width divisible by the VAE factor times the patch.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from diffusers import AutoencoderKLWan, WanPipeline, WanTransformer3DModel
from diffusers.schedulers.scheduling_utils import SchedulerMixin
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from .backbone import FlowBackbone
from .wan_frame_prompts import per_frame_text_attention
from .wan_model_call import expert_for, wan_denoiser, wan_velocity

STOCK_NUM_FRAMES = 81
STOCK_HEIGHT, STOCK_WIDTH = 480, 832
STOCK_GUIDANCE_SCALE = 5.0
STOCK_FPS = 16
STOCK_MAX_SEQUENCE_LENGTH = 512  # diffusers' Wan text length; its 2.1 I2V processors assume it


class T2VWanPipeline(WanPipeline):
    r"""Text-to-video with Wan 2.1 / 2.2 (one transformer, two experts, or ``expand_timesteps``), with the
    model's native settings.

    Components are those of [`~diffusers.WanPipeline`]: `tokenizer`, `text_encoder`, `vae`, `scheduler`,
    `transformer`, `transformer_2`.

    Args:
        native_num_frames, native_height, native_width, native_fps, native_guidance_scale (*optional*):
            the model's own settings; `__call__`'s defaults.
        native_max_sequence_length (`int`, *optional*): text tokens per prompt (default 512, diffusers').
        native_guidance_scale_2 (`float`, *optional*): the low-noise expert's guidance on a two-expert (A14B)
            model in t2v's story, transition and fine-tuning loops (default: the same as `guidance_scale`).
    """

    def __init__(
        self,
        tokenizer: PreTrainedTokenizerBase,
        text_encoder: PreTrainedModel,
        vae: AutoencoderKLWan,
        scheduler: SchedulerMixin,
        transformer: WanTransformer3DModel | None = None,
        transformer_2: WanTransformer3DModel | None = None,
        boundary_ratio: float | None = None,
        expand_timesteps: bool = False,
        native_num_frames: int | None = None,
        native_height: int | None = None,
        native_width: int | None = None,
        native_fps: int | None = None,
        native_guidance_scale: float | None = None,
        native_max_sequence_length: int | None = None,
        native_guidance_scale_2: float | None = None,
    ):
        super().__init__(tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, scheduler=scheduler,
                         transformer=transformer, transformer_2=transformer_2, boundary_ratio=boundary_ratio,
                         expand_timesteps=expand_timesteps)
        settings = {"native_num_frames": native_num_frames, "native_height": native_height,
                    "native_width": native_width, "native_fps": native_fps,
                    "native_guidance_scale": native_guidance_scale,
                    "native_max_sequence_length": native_max_sequence_length}
        settings["native_guidance_scale_2"] = native_guidance_scale_2
        for name, value in settings.items():
            kind = (int, float) if "guidance" in name else int
            if value is not None and (isinstance(value, bool) or not isinstance(value, kind) or value <= 0):
                raise ValueError(f"{name} must be a positive {'number' if kind is not int else 'integer'} or None, "
                                 f"got {value!r}")
        self.register_to_config(**settings)

    @property
    def denoiser(self) -> WanTransformer3DModel:
        return wan_denoiser(self)

    @property
    def backbone(self) -> FlowBackbone:
        return FlowBackbone.of(self)

    @property
    def default_num_frames(self) -> int:
        return self.config.get("native_num_frames") or STOCK_NUM_FRAMES

    @property
    def native_frame_size(self) -> tuple[int, int]:
        return (self.config.get("native_height") or STOCK_HEIGHT, self.config.get("native_width") or STOCK_WIDTH)

    @property
    def default_fps(self) -> int:
        return self.config.get("native_fps") or STOCK_FPS

    @property
    def default_guidance_scale(self) -> float:
        return self.config.get("native_guidance_scale") or STOCK_GUIDANCE_SCALE

    @property
    def max_sequence_length(self) -> int:
        """Text tokens per prompt in the t2v mixins (diffusers' Wan default: 512)."""
        return self.config.get("native_max_sequence_length") or STOCK_MAX_SEQUENCE_LENGTH

    @property
    def frame_limit(self) -> int:
        """The most frames one pass makes: the native length."""
        return self.default_num_frames

    @property
    def size_multiple(self) -> int:
        """Height and width must be multiples of this: the VAE's spatial factor times the patch."""
        return self.vae_scale_factor_spatial * int(self.denoiser.config.patch_size[1])

    def check_wan_shape(self, num_frames: int, height: int, width: int, max_frames: int | None = None) -> None:
        """Wan's shape rules, checked before any work: frames ``4k+1`` (at most ``max_frames`` when given),
        sides multiples of :attr:`size_multiple`."""
        step = self.vae_scale_factor_temporal
        if isinstance(num_frames, bool) or not isinstance(num_frames, int) or num_frames < 1 or (
                num_frames - 1) % step or (max_frames is not None and num_frames > max_frames):
            most = f" and at most {max_frames} (the model's length)" if max_frames is not None else ""
            raise ValueError(f"num_frames must be {step}k+1 (1, {step + 1}, {2 * step + 1}, ...){most} on Wan, "
                             f"got {num_frames!r}")
        for name, value in (("height", height), ("width", width)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0 or value % self.size_multiple:
                raise ValueError(f"{name} must be a positive multiple of {self.size_multiple} on this Wan model, "
                                 f"got {value!r}")

    # -- what the t2v technique mixins ask of a backbone's pipeline (T2VAnimateDiffPipeline answers the same) --

    default_context = 1  # a continuation is given the clip's last frame: latent frame 0 holds it alone
    default_guide_strength: tuple[float, float] | None = None  # unguided: not measured on a Wan model
    default_generated_share: float | None = None  # the model's frames as decoded: not measured on a Wan model
    @property
    def guidance_scale_2(self) -> float | None:
        """The low-noise expert's guidance on two-expert models in the t2v loops (None: the same as the high-noise
        expert's, as in stock)."""
        return self.config.get("native_guidance_scale_2")

    def check_frame_count(self, num_frames: int) -> None:
        height, width = self.native_frame_size
        self.check_wan_shape(num_frames, height, width, max_frames=self.frame_limit)

    def valid_frame_count(self, num_frames: int) -> int:
        """The fewest frames at least ``num_frames`` that Wan takes (``4k+1``)."""
        step = self.vae_scale_factor_temporal
        return max(1, -(-(num_frames - 1) // step) * step + 1)

    def latent_shape(self, num_frames: int, height: int, width: int) -> tuple[int, ...]:
        factor = self.vae_scale_factor_spatial
        return (1, self.denoiser.config.in_channels, self.backbone.num_latent_frames(num_frames), height // factor,
                width // factor)

    @staticmethod
    def noise_dtype(embeds: torch.Tensor) -> torch.dtype:
        return torch.float32  # Wan's loop keeps latents in fp32 whatever the transformer's dtype

    has_ip_adapter = False

    @contextmanager
    def ip_adapter_off(self, off: bool):
        yield

    def prepare_extra_step_kwargs(self, generator, eta) -> dict:
        return {}

    def encode_given(self, given: np.ndarray, given_indices: Sequence[int], num_frames: int,
                     like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The given frames as latents, and the mask of the latent frames that hold them.

        Wan's causal VAE encodes videos, not frames: the given frames are laid into a video of ``num_frames``
        in which every other frame holds the nearest given frame (a tie goes to the earlier one), and that
        video is encoded whole. A latent frame holding a given frame is pinned as a whole chunk, so the (up to
        3) frames that share its chunk are pinned too, each to the given frame nearest it.
        """
        indices = np.asarray(list(given_indices))
        nearest = np.abs(np.arange(num_frames)[:, None] - indices[None]).argmin(axis=1)
        video = torch.from_numpy(given[nearest]).to(self._execution_device, self.vae.dtype)
        pixels = video.permute(3, 0, 1, 2)[None] / 127.5 - 1.0
        placed = self.backbone.normalise(self.vae.encode(pixels).latent_dist.mode()).to(like.dtype)
        mask = torch.zeros(1, 1, like.shape[2], 1, 1, dtype=torch.bool, device=like.device)
        for k in indices:
            mask[:, :, self.backbone.latent_frame_of(int(k))] = True
        return placed, mask

    def model_prediction(self, latents: torch.Tensor, t: torch.Tensor, prompt_embeds: torch.Tensor,
                         guidance_scale: float, *, step_index: int = 0, num_steps: int = 1,
                         added_cond_kwargs: dict | None = None) -> torch.Tensor:
        """The guided velocity; ``prompt_embeds`` is ``(B, L, D)`` or, per latent frame, ``(B, F', L, D)``
        (negative half first under guidance)."""
        if added_cond_kwargs:
            raise ValueError("Wan pipelines take no added_cond_kwargs (no IP-Adapter)")
        do_cfg = guidance_scale > 1.0
        negative, positive = prompt_embeds.chunk(2) if do_cfg else (None, prompt_embeds)
        frames = positive.shape[1] if positive.ndim == 4 else None

        def flat(embeds: torch.Tensor | None) -> torch.Tensor | None:
            return embeds.flatten(1, 2) if embeds is not None and embeds.ndim == 4 else embeds

        model, _ = expert_for(self, t)
        with per_frame_text_attention(model, frames):
            return wan_velocity(self, latents, t, flat(positive), flat(negative), guidance_scale,
                                guidance_scale_2=self.guidance_scale_2, step_index=step_index, num_steps=num_steps)

    def decode_to_uint8(self, latents: torch.Tensor) -> np.ndarray:
        """The first video of normalised ``latents`` decoded as uint8 frames ``(F, H, W, 3)``."""
        vae_latents = self.backbone.denormalise(latents.to(self.vae.dtype))
        video = self.vae.decode(vae_latents, return_dict=False)[0]
        frames = self.video_processor.postprocess_video(video, output_type="np")
        return np.clip(np.rint(frames[0] * 255.0), 0, 255).astype(np.uint8)

    def __call__(
        self,
        prompt: str | list[str] | None = None,
        negative_prompt: str | list[str] | None = None,
        height: int | None = None,
        width: int | None = None,
        num_frames: int | None = None,
        num_inference_steps: int = 50,
        guidance_scale: float | None = None,
        **kwargs: Any,
    ):
        """As [`~diffusers.WanPipeline.__call__`], with unset sizes, frames and guidance taken from the model's
        native settings, and Wan's shape rules checked first."""
        native_height, native_width = self.native_frame_size
        height = native_height if height is None else height
        width = native_width if width is None else width
        num_frames = self.default_num_frames if num_frames is None else num_frames
        self.check_wan_shape(num_frames, height, width)
        kwargs.setdefault("max_sequence_length", self.max_sequence_length)
        return super().__call__(
            prompt=prompt, negative_prompt=negative_prompt, height=height, width=width, num_frames=num_frames,
            num_inference_steps=num_inference_steps,
            guidance_scale=self.default_guidance_scale if guidance_scale is None else guidance_scale, **kwargs)
