"""t2v's capabilities through Wan's own conditioning, where Wan has it.

The shared way (:class:`~t2v.pipelines.TransitionWanPipeline`, :class:`~t2v.pipelines.MultiSceneWanPipeline`)
pins given frames into a text-to-video model's latents at every step (masked temporal inpainting), a
latent chunk at a time, on any Wan T2V model. Some Wan releases were trained to take the given frames as a
condition instead, and these functions call them with t2v's inputs (uint8 frames ``(F, H, W, 3)``, checked
up front, errors naming the argument) and return t2v's output (uint8 frames):

* :func:`native_transition`: first and last frame through ``WanImageToVideoPipeline(image=, last_image=)``
  — Wan 2.1 FLF2V (its image embedding has positions for two CLIP images), or 2.2 I2V A14B, which takes the
  last frame through its latent mask channels (released for I2V; first–last use there is unmeasured).
  Refused: TI2V-5B (``expand_timesteps``: it conditions on the first latent frame only and ignores
  ``last_image``), plain 2.1 I2V (one image's positions), and models without image conditioning.
* :func:`native_continuation`: the next scene from a clip's last frame by image-to-video (2.1 I2V, 2.2 A14B,
  TI2V-5B as ``WanImageToVideoPipeline``), where the shared way carries boundary noise and structure over.
* :func:`native_keyframes`: frames at any index through ``WanVACEPipeline(video=, mask=)``: the given frames
  at their indices, gray (0.5, i.e. 0 after the pipeline's [-1, 1] scaling, as the VACE release fills frames
  to generate) elsewhere; the mask white (1) where VACE generates, black (0) where it keeps.
* :func:`reference_edit`: VACE inpainting with ``reference_images``: the masked region is grayed out of the
  source video and regenerated to follow the prompt and the references. The mask comes from the user, or
  from the source words' text cross-attention (:mod:`t2v.pipelines.wan_attention_maps`).

Unlike the shared way, VACE and FLF2V do not pin a given frame: they are trained to reproduce it, so the
output frame at a given index is the model's rendering of it (exact only as far as the model is).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from .masked_frames import to_uint8_frames
from .pipeline_t2v_wan import STOCK_MAX_SEQUENCE_LENGTH as WAN_TEXT_TOKENS
from .wan_model_call import wan_denoiser

logger = logging.getLogger(__name__)

VACE_FILLER = 0.5  # 127.5 / 255: zero in the pipeline's [-1, 1] pixels, the VACE release's fill for frames to make


# -- checks -----------------------------------------------------------------------------------------


def size_multiple(pipe) -> int:
    """Height and width must be multiples of this: the VAE's spatial factor times the patch, and at least 16
    (diffusers' I2V pipeline asks for 16 whatever the VAE)."""
    patch = int(wan_denoiser(pipe).config.patch_size[1])
    return max(16, int(pipe.vae_scale_factor_spatial) * patch)


def check_prompt(prompt: str, name: str = "prompt") -> None:
    if not isinstance(prompt, str) or not prompt.strip():
        raise ValueError(f"{name} must be a non-empty string, got {prompt!r}")


def check_num_frames(pipe, num_frames: int, minimum: int = 1) -> None:
    """Wan's frame rule: ``4k+1`` (the causal VAE keeps frame 0 alone, then 4 frames per latent frame)."""
    step = int(getattr(pipe, "vae_scale_factor_temporal", 4))
    if isinstance(num_frames, bool) or not isinstance(num_frames, int) or num_frames < minimum or (
            num_frames - 1) % step:
        first = [n for n in range(1, minimum + 3 * step + 1, step) if n >= minimum][:3]
        raise ValueError(f"num_frames must be {step}k+1 and at least {minimum} ({', '.join(map(str, first))}, ...) "
                         f"on Wan, got {num_frames!r}")


def check_sides(pipe, height: int, width: int, name: str) -> None:
    multiple = size_multiple(pipe)
    if height % multiple or width % multiple:
        raise ValueError(f"{name} must have height and width divisible by {multiple} on this Wan model, got "
                         f"{height}x{width}")


def as_frame(frame: Any, name: str) -> np.ndarray:
    """One uint8 image ``(H, W, 3)`` from an image or a one-frame clip (uint8, or float in [0, 1])."""
    frames = to_uint8_frames(frame, name)
    if len(frames) != 1:
        raise ValueError(f"{name} must be one image (H, W, 3), got {len(frames)} frames")
    return frames[0]


def _to_uint8(frames: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(np.asarray(frames, dtype=np.float32) * 255.0), 0, 255).astype(np.uint8)


def _check_steps(num_inference_steps: int) -> None:
    if isinstance(num_inference_steps, bool) or not isinstance(num_inference_steps, int) or not (
            1 <= num_inference_steps <= 1000):
        raise ValueError(f"num_inference_steps must be in [1, 1000], got {num_inference_steps!r}")


# -- first and last frame: FLF2V --------------------------------------------------------------------


def check_first_last_model(pipe) -> None:
    """Refuse, with the reason, a pipeline that cannot take a first and a last frame natively."""
    from diffusers import WanImageToVideoPipeline

    if pipe.config.get("expand_timesteps"):
        raise ValueError("this Wan model uses expand_timesteps (Wan 2.2 TI2V-5B): it conditions on the first "
                         "frame only and ignores last_image. Use a Wan 2.1 FLF2V model, or the shared way "
                         "(TransitionWanPipeline / generate_with_given) on a text-to-video model")
    model = wan_denoiser(pipe)
    image_channels = 2 * int(pipe.vae.config.z_dim) + 4
    if not isinstance(pipe, WanImageToVideoPipeline) or int(model.config.in_channels) != image_channels:
        raise ValueError(f"pipe_i2v must be a WanImageToVideoPipeline of an image-conditioned Wan model (FLF2V or "
                         f"I2V); got {type(pipe).__name__} whose transformer takes {model.config.in_channels} "
                         "channels, no image conditioning. Use the shared way (TransitionWanPipeline) on it")
    if model.config.get("image_dim") is not None and not model.config.get("pos_embed_seq_len"):
        raise ValueError("this Wan 2.1 I2V model embeds one image only (no pos_embed_seq_len for a first and a last "
                         "image): use the Wan 2.1 FLF2V release, or the shared way (TransitionWanPipeline)")


@torch.no_grad()
def native_transition(
    pipe_i2v,
    first_frame: np.ndarray,
    last_frame: np.ndarray,
    prompt: str,
    num_frames: int,
    *,
    negative_prompt: str | None = None,
    num_inference_steps: int = 50,
    guidance_scale: float = 5.0,
    generator: torch.Generator | None = None,
    max_sequence_length: int = WAN_TEXT_TOKENS,
    **call_kwargs: Any,
) -> np.ndarray:
    """``num_frames`` uint8 frames ``(F, H, W, 3)`` from ``first_frame`` to ``last_frame`` (both uint8
    ``(H, W, 3)``), made by the model's own first–last-frame conditioning; the frames' size sets the video's.

    ``call_kwargs`` go to ``WanImageToVideoPipeline.__call__`` (e.g. ``guidance_scale_2``).
    """
    check_first_last_model(pipe_i2v)
    check_prompt(prompt)
    check_num_frames(pipe_i2v, num_frames, minimum=int(getattr(pipe_i2v, "vae_scale_factor_temporal", 4)) + 1)
    _check_steps(num_inference_steps)
    first, last = as_frame(first_frame, "first_frame"), as_frame(last_frame, "last_frame")
    if first.shape != last.shape:
        raise ValueError(f"first_frame and last_frame must have the same size, got {first.shape[:2]} and "
                         f"{last.shape[:2]}")
    height, width = first.shape[:2]
    check_sides(pipe_i2v, height, width, "first_frame")
    if getattr(wan_denoiser(pipe_i2v).blocks[0].attn2, "add_k_proj", None) is not None \
            and max_sequence_length != WAN_TEXT_TOKENS:
        raise ValueError(f"max_sequence_length must be {WAN_TEXT_TOKENS} on Wan 2.1 image-to-video models (their "
                         f"attention splits the image tokens off by that length), got {max_sequence_length}")
    if pipe_i2v.transformer_2 is not None:
        logger.info("Wan 2.2 I2V A14B takes last_image through its mask channels; it was released for I2V")
    from PIL import Image

    return _generate(pipe_i2v, {"image": Image.fromarray(first), "last_image": Image.fromarray(last)}, prompt,
                     height, width, num_frames, negative_prompt=negative_prompt,
                     num_inference_steps=num_inference_steps, guidance_scale=guidance_scale, generator=generator,
                     max_sequence_length=max_sequence_length, call_kwargs=call_kwargs)


def check_continuation_model(pipe) -> None:
    """Refuse, with the reason, a pipeline that cannot continue from one image natively."""
    from diffusers import WanImageToVideoPipeline

    if not isinstance(pipe, WanImageToVideoPipeline):
        raise ValueError(f"pipe_i2v must be a WanImageToVideoPipeline, got {type(pipe).__name__}: continue with "
                         "the shared way (MultiSceneWanPipeline / TransitionWanPipeline mode='continue') on it")
    if wan_denoiser(pipe).config.get("pos_embed_seq_len"):
        raise ValueError("this is a Wan 2.1 FLF2V model: its image embedding takes a first and a last image, not "
                         "one; continue a scene with an I2V model, or give both ends to native_transition")


@torch.no_grad()
def native_continuation(
    pipe_i2v,
    clip: np.ndarray,
    prompt: str,
    num_frames: int,
    *,
    negative_prompt: str | None = None,
    num_inference_steps: int = 50,
    guidance_scale: float = 5.0,
    generator: torch.Generator | None = None,
    max_sequence_length: int = WAN_TEXT_TOKENS,
    **call_kwargs: Any,
) -> np.ndarray:
    """A next scene from ``clip``'s last frame by image-to-video: ``num_frames`` uint8 frames whose frame 0 is
    the model's rendering of that frame (drop it when joining scenes). Image-to-video Wan models: 2.1 I2V,
    2.2 A14B, and TI2V-5B loaded as ``WanImageToVideoPipeline``; not FLF2V, which embeds two images."""
    from PIL import Image

    check_continuation_model(pipe_i2v)
    check_prompt(prompt)
    check_num_frames(pipe_i2v, num_frames)
    _check_steps(num_inference_steps)
    frames = to_uint8_frames(clip, "clip")
    height, width = frames.shape[1:3]
    check_sides(pipe_i2v, height, width, "clip")
    return _generate(pipe_i2v, {"image": Image.fromarray(frames[-1])}, prompt, height, width, num_frames,
                     negative_prompt=negative_prompt, num_inference_steps=num_inference_steps,
                     guidance_scale=guidance_scale, generator=generator, max_sequence_length=max_sequence_length,
                     call_kwargs=call_kwargs)


# -- keyframes and edits: VACE ----------------------------------------------------------------------


def check_vace_model(pipe, name: str = "pipe_vace") -> None:
    from diffusers import WanVACEPipeline

    if not isinstance(pipe, WanVACEPipeline) or getattr(wan_denoiser(pipe).config, "vace_layers", None) is None:
        raise ValueError(f"{name} must be a WanVACEPipeline of a Wan VACE model, got {type(pipe).__name__}")


def vace_keyframe_inputs(keyframes: Mapping[int, np.ndarray], num_frames: int
                         ) -> tuple[np.ndarray, np.ndarray]:
    """VACE's ``video`` and ``mask`` for keyframes, float32 ``(F, H, W, 3)`` in [0, 1].

    ``video``: each keyframe at its index, pixel-exact (``k / 255``), gray ``VACE_FILLER`` elsewhere;
    ``mask``: 0 (black, keep) at the keyframes' indices, 1 (white, generate) elsewhere.
    """
    if not isinstance(keyframes, Mapping) or not keyframes:
        raise ValueError("keyframes must be a non-empty dict {frame index: image (H, W, 3)}")
    frames = {}
    for index, frame in keyframes.items():
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < num_frames:
            raise ValueError(f"keyframes indices must be integers in [0, {num_frames - 1}], got {index!r}")
        frames[int(index)] = as_frame(frame, f"keyframes[{index}]")
    shapes = {f.shape for f in frames.values()}
    if len(shapes) != 1:
        raise ValueError(f"keyframes must all have the same size, got {sorted(s[:2] for s in shapes)}")
    height, width, _ = shapes.pop()
    video = np.full((num_frames, height, width, 3), VACE_FILLER, dtype=np.float32)
    mask = np.ones((num_frames, height, width, 3), dtype=np.float32)
    for index, frame in frames.items():
        video[index] = frame.astype(np.float32) / 255.0
        mask[index] = 0.0
    return video, mask


def _generate(pipe, inputs: dict, prompt: str, height: int, width: int, num_frames: int, *,
              negative_prompt: str | None, num_inference_steps: int, guidance_scale: float,
              generator: torch.Generator | None, max_sequence_length: int, call_kwargs: dict) -> np.ndarray:
    """One call of a native Wan pipeline with its own conditioning ``inputs``, as uint8 frames."""
    out = pipe(prompt=prompt, negative_prompt=negative_prompt, height=height, width=width, num_frames=num_frames,
               num_inference_steps=num_inference_steps, guidance_scale=guidance_scale, generator=generator,
               max_sequence_length=max_sequence_length, output_type="np", **inputs, **call_kwargs).frames[0]
    return _to_uint8(out)


def _run_vace(pipe, prompt: str, video: np.ndarray, mask: np.ndarray, reference_images: list | None,
              num_frames: int, **settings: Any) -> np.ndarray:
    """One VACE call. Video and mask go in as one-video batches ``(1, F, H, W, 3)``: diffusers reads a lone
    numpy frame's height from its second axis, so a 4D array would be read as ``W x 3``."""
    height, width = video.shape[1:3]
    inputs = {"video": video[None], "mask": mask[None], "reference_images": reference_images}
    return _generate(pipe, inputs, prompt, height, width, num_frames, **settings)


@torch.no_grad()
def native_keyframes(
    pipe_vace,
    keyframes: Mapping[int, np.ndarray],
    prompt: str,
    num_frames: int,
    *,
    negative_prompt: str | None = None,
    num_inference_steps: int = 50,
    guidance_scale: float = 5.0,
    generator: torch.Generator | None = None,
    max_sequence_length: int = WAN_TEXT_TOKENS,
    **call_kwargs: Any,
) -> np.ndarray:
    """``num_frames`` uint8 frames with ``keyframes[k]`` (uint8 ``(H, W, 3)``) at frame ``k`` (first, middle,
    last, any), made by VACE from the frames and mask of :func:`vace_keyframe_inputs`.

    ``call_kwargs`` go to ``WanVACEPipeline.__call__`` (e.g. ``conditioning_scale``, ``reference_images``).
    """
    check_vace_model(pipe_vace)
    check_prompt(prompt)
    check_num_frames(pipe_vace, num_frames)
    _check_steps(num_inference_steps)
    video, mask = vace_keyframe_inputs(keyframes, num_frames)
    check_sides(pipe_vace, video.shape[1], video.shape[2], "keyframes")
    reference_images = call_kwargs.pop("reference_images", None)
    return _run_vace(pipe_vace, prompt, video, mask, reference_images, num_frames, negative_prompt=negative_prompt,
                     num_inference_steps=num_inference_steps, guidance_scale=guidance_scale, generator=generator,
                     max_sequence_length=max_sequence_length, call_kwargs=call_kwargs)


def as_edit_mask(mask: Any, num_frames: int, height: int, width: int) -> np.ndarray:
    """A user's mask as bool ``(F, H, W)``, True = regenerate: ``(H, W)`` (every frame), ``(F, H, W)`` or
    ``(F, H, W, 1|3)``; bool, uint8 (white ≥ 128) or float in [0, 1] (≥ 0.5)."""
    array = np.asarray(mask)
    if array.ndim == 4 and array.shape[-1] in (1, 3):
        array = array[..., 0]
    if array.ndim == 2:
        array = np.broadcast_to(array, (num_frames, *array.shape))
    if array.shape != (num_frames, height, width):
        raise ValueError(f"mask must be (H, W), (F, H, W) or (F, H, W, 1|3) matching the video "
                         f"({num_frames}, {height}, {width}), got shape {np.asarray(mask).shape}")
    if array.dtype == bool:
        out = array
    elif array.dtype == np.uint8:
        out = array >= 128
    elif np.issubdtype(array.dtype, np.floating) and np.isfinite(array).all() and 0 <= array.min() \
            and array.max() <= 1:
        out = array >= 0.5
    else:
        raise ValueError("mask must be bool, uint8 (255 = regenerate) or float in [0, 1]")
    if not out.any():
        raise ValueError("mask is black everywhere: it keeps every pixel, so there is nothing to edit")
    return np.ascontiguousarray(out)


def vace_edit_inputs(video: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """VACE's ``video`` and ``mask`` for an edit, float32 ``(F, H, W, 3)``: the source with the region to
    regenerate grayed out (the VACE release's inpainting input) and the mask white (1) there."""
    frames = video.astype(np.float32) / 255.0
    region = mask[..., None]
    return np.where(region, np.float32(VACE_FILLER), frames), np.repeat(region, 3, axis=-1).astype(np.float32)


def _as_pil_images(images: Any) -> list:
    from PIL import Image

    if isinstance(images, (Image.Image, np.ndarray)) or not isinstance(images, Sequence) or not images:
        raise ValueError("reference_images must be a non-empty list of PIL images (or uint8 (H, W, 3) arrays)")
    out = []
    for i, image in enumerate(images):
        if isinstance(image, Image.Image):
            out.append(image.convert("RGB"))
        elif isinstance(image, np.ndarray):
            out.append(Image.fromarray(as_frame(image, f"reference_images[{i}]")))
        else:
            raise ValueError(f"reference_images[{i}] must be a PIL image or a uint8 (H, W, 3) array, got "
                             f"{type(image).__name__}")
    return out


@torch.no_grad()
def reference_edit(
    pipe_vace,
    video: np.ndarray,
    prompt: str,
    reference_images: Sequence[Any],
    mask: np.ndarray | None = None,
    *,
    mask_words: Sequence[str] | None = None,
    mask_prompt: str | None = None,
    mask_threshold: float = 0.5,
    negative_prompt: str | None = None,
    num_inference_steps: int = 50,
    guidance_scale: float = 5.0,
    generator: torch.Generator | None = None,
    max_sequence_length: int = WAN_TEXT_TOKENS,
    **call_kwargs: Any,
) -> np.ndarray:
    """``video`` (uint8 ``(F, H, W, 3)``, ``F = 4k+1``) with the masked region regenerated to follow
    ``prompt`` and ``reference_images`` (VACE's reference-to-video inpainting); uint8 frames of the same shape.

    The region is ``mask`` (white / True = regenerate; see :func:`as_edit_mask`) or, without one, where
    ``mask_words`` sit in the source video by the text cross-attention of ``mask_prompt`` (a prompt that
    describes the source video; default ``prompt``), thresholded at ``mask_threshold``
    (:func:`t2v.pipelines.wan_attention_maps.word_attention_mask`).

    What of t2v's UNet attention-controlled editing (:mod:`t2v.editing.attention`: Prompt-to-Prompt / FateZero
    store, replace, refine and reweight of cross- and self-attention across a source and an edited pass)
    carries over to Wan:

    * carried over: reading the words' text cross-attention maps (``attn2`` of each block; one softmax over
      text tokens per video token, as in the UNet) and the local blend's thresholding of them into a mask —
      here the mask VACE edits inside;
    * refused: self-attention injection. Wan's ``attn1`` is one joint spatio-temporal attention over all
      ``F'·h·w`` tokens (no separate spatial and temporal layers to give windows to, and maps of
      ``(F'·h·w)²`` per head: ~10⁹ entries at 81 frames 480p), so the UNet's per-role windows and stored
      maps have nothing to act on;
    * refused: cross-attention replace / refine / reweight during the edited pass. Wan runs classifier-free
      guidance as two separate transformer passes (``cache_context("cond")`` / ``("uncond")``), not as batch
      halves, so the UNet controls' split of each batch into its guidance halves does not apply, and the
      source pass they read from would need flow-matching inversion, which t2v does not have for Wan (DDIM
      inversion is refused there too). VACE's conditioning on the kept pixels and the references does the
      edit's job instead.
    """
    check_vace_model(pipe_vace)
    check_prompt(prompt)
    _check_steps(num_inference_steps)
    frames = to_uint8_frames(video, "video")
    num_frames, height, width = frames.shape[:3]
    try:
        check_num_frames(pipe_vace, num_frames)
    except ValueError as err:
        raise ValueError(f"video: {err}") from None
    check_sides(pipe_vace, height, width, "video")
    references = _as_pil_images(reference_images)
    if mask is None:
        if mask_words is None:
            raise ValueError("reference_edit needs mask= (white = regenerate) or mask_words= (the words whose place "
                             "in the source video is regenerated, found by cross-attention)")
        from .wan_attention_maps import word_attention_mask

        mask = word_attention_mask(pipe_vace, frames, mask_prompt or prompt, mask_words, threshold=mask_threshold,
                                   generator=generator, max_sequence_length=max_sequence_length)
        if not mask.any():
            raise ValueError(f"mask_words {list(mask_words)} cover no pixel at mask_threshold={mask_threshold}: "
                             "lower it, or give a mask")
    elif mask_words is not None:
        raise ValueError("give mask or mask_words, not both")
    region = as_edit_mask(mask, num_frames, height, width)
    vace_video, vace_mask = vace_edit_inputs(frames, region)
    return _run_vace(pipe_vace, prompt, vace_video, vace_mask, references, num_frames,
                     negative_prompt=negative_prompt, num_inference_steps=num_inference_steps,
                     guidance_scale=guidance_scale, generator=generator, max_sequence_length=max_sequence_length,
                     call_kwargs=call_kwargs)
