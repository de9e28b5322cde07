"""``T2VAnimateDiffPipeline``: diffusers' ``AnimateDiffPipeline`` that remembers its model's native settings.

A model trained for 8 frames at guidance 4 should not be asked for diffusers' 16 frames at 7.5 because
a pipeline was rebuilt. The native frame count, fps and guidance are ``__init__`` arguments, so diffusers
writes them into ``model_index.json`` and carries them through ``from_pipe``, ``save_pretrained`` and
``from_pretrained``; ``__call__`` uses them wherever the caller leaves a value unset. The t2v pipelines
(multi-scene, transition, editing) subclass this one and so keep the same defaults.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from diffusers import AnimateDiffPipeline, AutoencoderKL, MotionAdapter, UNet2DConditionModel, UNetMotionModel
from diffusers.schedulers.scheduling_utils import SchedulerMixin
from transformers import CLIPImageProcessor, CLIPVisionModelWithProjection, PreTrainedModel, PreTrainedTokenizerBase

from .backbone import UNetBackbone

# diffusers' own AnimateDiff defaults, used when a model states none.
STOCK_NUM_FRAMES = 16
STOCK_GUIDANCE_SCALE = 7.5
STOCK_FPS = 8


class T2VAnimateDiffPipeline(AnimateDiffPipeline):
    r"""Text-to-video with AnimateDiff, with the model's native frames, fps and guidance as settings.

    Components are those of [`~diffusers.AnimateDiffPipeline`]: `vae`, `text_encoder`, `tokenizer`, `unet`,
    `motion_adapter`, `scheduler`, `feature_extractor`, `image_encoder`.

    Args:
        native_num_frames (`int`, *optional*): frames the model was trained on; `__call__`'s default.
        native_fps (`int`, *optional*): playback rate of the model's clips, for writing videos.
        native_guidance_scale (`float`, *optional*): the guidance the model was tuned for; `__call__`'s default.
    """

    def __init__(
        self,
        vae: AutoencoderKL,
        text_encoder: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        unet: UNet2DConditionModel | UNetMotionModel,
        motion_adapter: MotionAdapter | None,  # no defaults on components: diffusers loads them by signature
        scheduler: SchedulerMixin,
        feature_extractor: CLIPImageProcessor | None = None,
        image_encoder: CLIPVisionModelWithProjection | None = None,
        native_num_frames: int | None = None,
        native_fps: int | None = None,
        native_guidance_scale: float | None = None,
    ):
        super().__init__(vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet,
                         motion_adapter=motion_adapter, scheduler=scheduler, feature_extractor=feature_extractor,
                         image_encoder=image_encoder)
        for name, value, kind in (("native_num_frames", native_num_frames, int), ("native_fps", native_fps, int),
                                  ("native_guidance_scale", native_guidance_scale, (int, float))):
            if value is not None and (isinstance(value, bool) or not isinstance(value, kind) or value <= 0):
                raise ValueError(f"{name} must be a positive number or None, got {value!r}")
        self.register_to_config(native_num_frames=native_num_frames, native_fps=native_fps,
                                native_guidance_scale=native_guidance_scale)

    @property
    def default_num_frames(self) -> int:
        return self.config.native_num_frames or STOCK_NUM_FRAMES

    @property
    def default_fps(self) -> int:
        return self.config.native_fps or STOCK_FPS

    @property
    def default_guidance_scale(self) -> float:
        return self.config.native_guidance_scale or STOCK_GUIDANCE_SCALE

    @property
    def native_size(self) -> int:
        """The frame side the UNet was built for, in pixels."""
        sample = self.unet.config.sample_size
        return (sample if isinstance(sample, int) else sample[0]) * self.vae_scale_factor

    @property
    def frame_limit(self) -> int:
        """The most frames one pass makes: the native length, else what the motion modules can take."""
        return int(self.config.get("native_num_frames") or getattr(self.unet.config, "motion_max_seq_length", 32))

    # -- what the t2v technique mixins ask of a backbone's pipeline (T2VWanPipeline answers the same) ----

    @property
    def backbone(self) -> UNetBackbone:
        return UNetBackbone.of(self)

    @property
    def native_frame_size(self) -> tuple[int, int]:
        return self.native_size, self.native_size

    @property
    def size_multiple(self) -> int:
        """Frame sides must be multiples of this (the VAE's factor)."""
        return self.vae_scale_factor

    def check_frame_count(self, num_frames: int) -> None:
        if isinstance(num_frames, bool) or not isinstance(num_frames, int) or not 1 <= num_frames <= self.frame_limit:
            raise ValueError(f"num_frames must be in [1, {self.frame_limit}] (the model's length), got {num_frames}")

    def latent_shape(self, num_frames: int, height: int, width: int) -> tuple[int, ...]:
        return (1, self.unet.config.in_channels, num_frames, height // self.vae_scale_factor,
                width // self.vae_scale_factor)

    @staticmethod
    def noise_dtype(embeds: torch.Tensor) -> torch.dtype:
        return embeds.dtype

    def model_prediction(self, latents: torch.Tensor, t: torch.Tensor, prompt_embeds: torch.Tensor,
                         guidance_scale: float, *, step_index: int = 0, num_steps: int = 1,
                         added_cond_kwargs: dict | None = None) -> torch.Tensor:
        """The UNet's guided prediction; ``prompt_embeds`` has the negative half first under guidance."""
        do_cfg = guidance_scale > 1.0
        model_input = torch.cat([latents] * 2) if do_cfg else latents
        model_input = self.scheduler.scale_model_input(model_input, t)
        prediction = self.unet(model_input, t, encoder_hidden_states=prompt_embeds,
                               cross_attention_kwargs=self.cross_attention_kwargs,
                               added_cond_kwargs=added_cond_kwargs).sample
        if do_cfg:
            uncond, cond = prediction.chunk(2)
            prediction = uncond + guidance_scale * (cond - uncond)
        return prediction

    default_context = 2  # frames of a clip that a continuation is given (one latent frame each)
    # A transition's dissolve guide (ends, middle), chosen on tiny-shapes' dev pairs (benchmarks/transitions.py)
    default_guide_strength: tuple[float, float] | None = (0.0, 0.3)
    # its share of the model's frames (MaskedFramesMixin.bridge_frames), chosen on the same pairs
    default_generated_share: float | None = 0.3

    @staticmethod
    def valid_frame_count(num_frames: int) -> int:
        """The fewest frames at least ``num_frames`` that one pass can make (any count on AnimateDiff)."""
        return num_frames

    def encode_frames(self, frames: np.ndarray) -> torch.Tensor:
        """uint8 ``(K, H, W, 3)`` → the UNet's latents ``(1, C, K, h, w)`` (the posterior's mode)."""
        device, dtype = self._execution_device, self.vae.dtype
        pixels = torch.from_numpy(frames).to(device=device, dtype=dtype).permute(0, 3, 1, 2) / 127.5 - 1.0
        latents = self.vae.encode(pixels).latent_dist.mode()
        return self.backbone.normalise(latents).permute(1, 0, 2, 3).unsqueeze(0)

    def encode_given(self, given: np.ndarray, given_indices: Sequence[int], num_frames: int,
                     like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The given frames' latents placed at their latent frames, and the mask of those latent frames
        (``(1, 1, F', 1, 1)``). One latent frame per pixel frame on AnimateDiff."""
        placed = torch.zeros_like(like)
        mask = torch.zeros(1, 1, like.shape[2], 1, 1, dtype=torch.bool, device=like.device)
        encoded = self.encode_frames(given).to(like.dtype)
        for j, k in enumerate(given_indices):
            frame = self.backbone.latent_frame_of(k)
            placed[:, :, frame] = encoded[:, :, j]
            mask[:, :, frame] = True
        return placed, mask

    def decode_to_uint8(self, latents: torch.Tensor) -> np.ndarray:
        """The first video of ``latents`` decoded as uint8 frames ``(F, H, W, 3)``, the form the t2v pipelines
        keep clips in between steps of a story or a transition."""
        video = self.video_processor.postprocess_video(video=self.decode_latents(latents, 16), output_type="np")
        return np.clip(np.rint(video[0] * 255.0), 0, 255).astype(np.uint8)

    @property
    def has_ip_adapter(self) -> bool:
        """An image encoder and a loaded IP-Adapter: the UNet then needs image embeddings on every call."""
        return self.image_encoder is not None and getattr(self.unet, "encoder_hid_proj", None) is not None

    def empty_image_embeds(self, device, do_cfg: bool) -> list[torch.Tensor]:
        """Zero image embeddings of the loaded adapters' shape, for calls with no reference image (used with
        :meth:`ip_adapter_off`, so they do not act)."""
        from PIL import Image

        blank = Image.new("RGB", (224, 224))
        count = len(getattr(self.unet.encoder_hid_proj, "image_projection_layers", [None]))
        embeds = self.prepare_ip_adapter_image_embeds([blank] * count, None, device, 1, do_cfg)
        return [torch.zeros_like(e) for e in embeds]

    @contextmanager
    def ip_adapter_off(self, off: bool):
        """Run with every IP-Adapter scale at 0, then give each layer back the scale it had."""
        saved = [(p, list(p.scale)) for p in self.unet.attn_processors.values()
                 if isinstance(getattr(p, "scale", None), list)]
        if not off or not saved:
            yield
            return
        for processor, _ in saved:
            processor.scale = [0.0] * len(processor.scale)
        try:
            yield
        finally:
            for processor, scale in saved:
                processor.scale = scale

    def __call__(
        self,
        prompt: str | list[str] | None = None,
        num_frames: int | None = None,
        height: int | None = None,
        width: int | None = None,
        num_inference_steps: int = 50,
        guidance_scale: float | None = None,
        **kwargs: Any,
    ):
        """As [`~diffusers.AnimateDiffPipeline.__call__`], with `num_frames` and `guidance_scale` defaulting
        to the model's native settings."""
        return super().__call__(
            prompt=prompt,
            num_frames=self.default_num_frames if num_frames is None else num_frames,
            height=height,
            width=width,
            num_inference_steps=num_inference_steps,
            guidance_scale=self.default_guidance_scale if guidance_scale is None else guidance_scale,
            **kwargs,
        )
