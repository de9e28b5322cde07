"""``TransitionAnimateDiffPipeline``: generated bridges between clips, image-to-video, clip continuation.

Three modes over one mechanism, masked temporal inpainting (:mod:`t2v.pipelines.masked_frames`; SEINE's
task, done training-free): the frames that are given stay pinned while the others are generated.

* ``"transition"``: the last ``context`` frames of clip (or image) A and the first of B are given, the
  ``num_frames`` between them are generated, and the prompt moves from ``prompt_a`` to ``prompt_b`` across the
  bridge (through ``prompt`` in the middle when one is given).
* ``"image_to_video"``: ``image`` is frame 0, the rest follow ``prompt``. The image is pinned whatever the
  prompt says; a prompt that does not describe it pulls the free frames towards its own scene, so the
  video leaves the image after the first frames (describe the image, then what happens).
* ``"continue"``: the last ``context`` frames of ``clip`` are given and ``num_frames`` new ones follow, a
  model-length window at a time, so a video can run past the model's native length.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from .denoising import DenoiseLoopMixin
from .masked_frames import MaskedFramesMixin, is_default, to_uint8_frames
from .pipeline_output import TransitionPipelineOutput
from .pipeline_t2v_animatediff import T2VAnimateDiffPipeline
from .pipeline_t2v_wan import T2VWanPipeline
from .time_varying_prompts import TimeVaryingPromptMixin
from .wan_frame_prompts import WanTimeVaryingPromptMixin

MODES = ("transition", "image_to_video", "continue")


class TransitionMixin:
    """The three modes over masked temporal inpainting, written once for every backbone (AnimateDiff and Wan, below)."""

    def check_transition_inputs(self, mode: str, prompt, clip_a, clip_b, prompt_a, prompt_b, image, clip,
                                output_type: str) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        needs = {"transition": {"clip_a": clip_a, "clip_b": clip_b, "prompt_a": prompt_a, "prompt_b": prompt_b},
                 "image_to_video": {"image": image, "prompt": prompt},
                 "continue": {"clip": clip, "prompt": prompt}}[mode]
        missing = [name for name, value in needs.items() if value is None]
        if missing:
            raise ValueError(f"mode={mode!r} needs {', '.join(missing)}")
        for name in ("prompt", "prompt_a", "prompt_b"):
            value = locals()[name]
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise ValueError(f"{name} must be a non-empty string")
        if output_type not in ("np", "pil"):
            raise ValueError(f"output_type must be 'np' or 'pil', got {output_type!r}")

    @torch.no_grad()
    def __call__(
        self,
        mode: str = "transition",
        prompt: str | None = None,
        *,
        clip_a: np.ndarray | None = None,
        clip_b: np.ndarray | None = None,
        prompt_a: str | None = None,
        prompt_b: str | None = None,
        image: np.ndarray | None = None,
        clip: np.ndarray | None = None,
        num_frames: int | None = None,
        context: int | None = None,
        num_inference_steps: int = 25,
        guidance_scale: float | None = None,
        negative_prompt: str | None = None,
        generator: torch.Generator | None = None,
        resample_rounds: int = 0,
        guide_strength: tuple[float, float] | None | str = "default",
        generated_share: float | None | str = "default",
        output_type: str = "np",
        return_dict: bool = True,
        callback_on_step_end: Callable | None = None,
    ) -> TransitionPipelineOutput | tuple:
        r"""Generate in one of three modes (see the module docstring).

        Args:
            clip_a, clip_b, image, clip: uint8 (or float in [0, 1]) frames ``(F, H, W, 3)`` or one image
                ``(H, W, 3)``, at a size divisible by the VAE's factor.
            num_frames: the bridge length (transition; default: the model's length less the given frames),
                the video length (image_to_video; default: the model's), or the new frames (continue; default:
                the model's length).
            context: frames given from each side (transition, default 1) or from the clip's end (continue,
                default: 2 on AnimateDiff, 1 on Wan).
            resample_rounds: RePaint resampling rounds per step (DDIM only; each costs another UNet pass).
            guide_strength: (transition) ``(ends, middle)``: guide the bridge by the dissolve from A to B, its
                frames free for that share of the steps, rising from the ends to the middle (see
                :meth:`~t2v.pipelines.masked_frames.MaskedFramesMixin.bridge_frames`); ``"default"``: the
                pipeline's ``default_guide_strength`` ((0, 0.3) on AnimateDiff, unguided on Wan); None: unguided.
            generated_share: (transition) the weight at the bridge's middle, rising from its ends, of what the
                model drew beyond the dissolve from A to B, shown over the exact dissolve (see
                :func:`~t2v.pipelines.masked_frames.mix_over_dissolve`; even 1.0 ramps); ``"default"``: the
                pipeline's ``default_generated_share`` (0.3 on AnimateDiff, chosen on tiny-shapes; None on Wan);
                None: the model's frames as decoded.

        Returns:
            [`TransitionPipelineOutput`] whose `frames` are the new frames only for `"transition"` and
            `"continue"`, and the whole video (frame 0 = the image) for `"image_to_video"`.
        """
        self.check_transition_inputs(mode, prompt, clip_a, clip_b, prompt_a, prompt_b, image, clip, output_type)
        if guide_strength is not None and not is_default(guide_strength) and mode != "transition":
            raise ValueError(f"guide_strength guides a transition's bridge; mode={mode!r} takes none")
        if generated_share is not None and not is_default(generated_share) and mode != "transition":
            raise ValueError(f"generated_share mixes a transition's bridge; mode={mode!r} takes none")
        settings = {"num_inference_steps": num_inference_steps, "guidance_scale": guidance_scale,
                    "negative_prompt": negative_prompt, "generator": generator, "resample_rounds": resample_rounds,
                    "callback_on_step_end": callback_on_step_end}
        if mode == "transition":
            context = 1 if context is None else context
            a, b = to_uint8_frames(clip_a, "clip_a"), to_uint8_frames(clip_b, "clip_b")
            if not 1 <= context <= min(len(a), len(b)):
                raise ValueError(f"context must be in [1, {min(len(a), len(b))}] (the frames of the shorter clip)")
            length = self.frame_limit - 2 * context if num_frames is None else num_frames
            frames = self.bridge_frames(a[-context:], b[:context], prompt_a, prompt_b, length, prompt,
                                        guide_strength=guide_strength, generated_share=generated_share,
                                        **settings)
        elif mode == "image_to_video":
            first = to_uint8_frames(image, "image")[:1]
            frames = self.generate_with_given(prompt, num_frames or self.default_num_frames, first, [0], **settings)
        else:
            frames = self.continue_frames(clip, prompt, num_frames or self.frame_limit,
                                          context=context, **settings)
        self.maybe_free_model_hooks()
        if output_type == "pil":
            from PIL import Image

            video = [[Image.fromarray(f) for f in frames]]
        else:
            video = (frames.astype(np.float32) / 255.0)[None]
        if not return_dict:
            return (video,)
        return TransitionPipelineOutput(frames=video)


class TransitionAnimateDiffPipeline(TransitionMixin, MaskedFramesMixin, TimeVaryingPromptMixin, DenoiseLoopMixin,
                                    T2VAnimateDiffPipeline):
    r"""Transitions, image-to-video and continuation with AnimateDiff.

    Components are those of [`~diffusers.AnimateDiffPipeline`], plus the native-setting arguments of
    [`T2VAnimateDiffPipeline`]. Build it with `from_pretrained` or, from a loaded pipeline, `from_pipe`.
    """


class TransitionWanPipeline(TransitionMixin, MaskedFramesMixin, WanTimeVaryingPromptMixin, DenoiseLoopMixin,
                            T2VWanPipeline):
    r"""Transitions, image-to-video, continuation and keyframes at any index (``generate_with_given``) with a
    Wan text-to-video model, by the same masked temporal inpainting. Given frames are pinned a latent chunk
    at a time (see :meth:`T2VWanPipeline.encode_given`); frame counts are ``4k+1``.

    Components are those of [`T2VWanPipeline`]. Build it with `from_pretrained` or `from_pipe`.
    """
