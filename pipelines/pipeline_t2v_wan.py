"""``T2VWanPipeline``: diffusers' ``WanPipeline`` with the model's native settings and Wan's shape rules.

Like :class:`~t2v.pipelines.T2VAnimateDiffPipeline`, the native frame count, size, fps and guidance are
``__init__`` arguments, so ``model_index.json`` carries them and ``__call__`` uses them where the caller
leaves a value unset (diffusers' Wan defaults: 81 frames, 480×832, 16 fps, guidance 5). Wan's shape rules
are checked up front with errors that name the argument: frames ``4k+1`` (the causal VAE keeps frame 0
alone and packs 4 frames per latent frame), height and width divisible by the VAE factor times the patch.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from diffusers import AutoencoderKLWan, WanPipeline, WanTransformer3DModel
from diffusers.schedulers.scheduling_utils import SchedulerMixin
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from .backbone import FlowBackbone

STOCK_NUM_FRAMES = 81
STOCK_HEIGHT, STOCK_WIDTH = 480, 832
STOCK_GUIDANCE_SCALE = 5.0
STOCK_FPS = 16


class T2VWanPipeline(WanPipeline):
    r"""Text-to-video with Wan 2.1 / 2.2 (one transformer, two experts, or ``expand_timesteps``), with the
    model's native settings.

    Components are those of [`~diffusers.WanPipeline`]: `tokenizer`, `text_encoder`, `vae`, `scheduler`,
    `transformer`, `transformer_2`.

    Args:
        native_num_frames, native_height, native_width, native_fps, native_guidance_scale (*optional*):
            the model's own settings; `__call__`'s defaults.
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
    ):
        super().__init__(tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, scheduler=scheduler,
                         transformer=transformer, transformer_2=transformer_2, boundary_ratio=boundary_ratio,
                         expand_timesteps=expand_timesteps)
        settings = {"native_num_frames": native_num_frames, "native_height": native_height,
                    "native_width": native_width, "native_fps": native_fps,
                    "native_guidance_scale": native_guidance_scale}
        for name, value in settings.items():
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
                raise ValueError(f"{name} must be a positive number or None, got {value!r}")
        self.register_to_config(**settings)

    @property
    def denoiser(self) -> WanTransformer3DModel:
        return self.transformer if self.transformer is not None else self.transformer_2

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
    def frame_limit(self) -> int:
        """The most frames one pass makes: the native length."""
        return self.default_num_frames

    @property
    def size_multiple(self) -> int:
        """Height and width must be multiples of this: the VAE's spatial factor times the patch."""
        return self.vae_scale_factor_spatial * int(self.denoiser.config.patch_size[1])

    def check_wan_shape(self, num_frames: int, height: int, width: int) -> None:
        """Wan's shape rules, checked before any work."""
        step = self.vae_scale_factor_temporal
        if isinstance(num_frames, bool) or not isinstance(num_frames, int) or num_frames < 1 or (
                num_frames - 1) % step:
            raise ValueError(f"num_frames must be {step}k+1 (1, {step + 1}, {2 * step + 1}, ...) on Wan, "
                             f"got {num_frames!r}")
        for name, value in (("height", height), ("width", width)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0 or value % self.size_multiple:
                raise ValueError(f"{name} must be a positive multiple of {self.size_multiple} on this Wan model, "
                                 f"got {value!r}")

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
        return super().__call__(
            prompt=prompt, negative_prompt=negative_prompt, height=height, width=width, num_frames=num_frames,
            num_inference_steps=num_inference_steps,
            guidance_scale=self.default_guidance_scale if guidance_scale is None else guidance_scale, **kwargs)
