"""``T2VAnimateDiffPipeline``: diffusers' ``AnimateDiffPipeline`` that remembers its model's native settings.

A model trained for 8 frames at guidance 4 should not be asked for diffusers' 16 frames at 7.5 because
a pipeline was rebuilt. The native frame count, fps and guidance are ``__init__`` arguments, so diffusers
writes them into ``model_index.json`` and carries them through ``from_pipe``, ``save_pretrained`` and
``from_pretrained``; ``__call__`` uses them wherever the caller leaves a value unset. The t2v pipelines
(multi-scene, transition, editing) subclass this one and so keep the same defaults.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from diffusers import AnimateDiffPipeline, AutoencoderKL, MotionAdapter, UNet2DConditionModel, UNetMotionModel
from diffusers.schedulers.scheduling_utils import SchedulerMixin
from transformers import CLIPImageProcessor, CLIPVisionModelWithProjection, PreTrainedModel, PreTrainedTokenizerBase

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
