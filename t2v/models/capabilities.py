"""What a model supports, read from its configs: frame rule, size multiple, image conditioning, keyframes,
reference images, experts and where a LoRA goes.

The same answer comes from a loaded pipeline (:func:`capabilities`) or from a model's config files alone
(:func:`model_capabilities`, which ``t2v models`` uses: it reads a few JSON files and no weights, so it
answers in a second for a 14B model too). Both go through one function per backbone, so they cannot
disagree.

The facts, per Wan layout:

* ``image_dim`` set on the transformer: a CLIP image encoder conditions it (Wan 2.1 I2V); with
  ``pos_embed_seq_len`` its image embedding has positions for two images: native first-last frame (FLF2V);
* ``expand_timesteps`` (TI2V-5B): a first image goes in as clean latent frame 0 with per-token timesteps,
  and a ``last_image`` is ignored: no native first-last frame;
* two transformers (2.2 A14B): each expert denoises part of the steps, so a LoRA must go into both;
* VACE: keyframes at any frame index, and reference images;
* every Wan model: frames ``4k+1`` (the causal VAE), height and width multiples of the VAE factor times
  the patch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .tiny_shapes import MODEL_CARD, TINY_SHAPES, is_tiny_shapes_folder, model_card, tiny_shapes_path
from .wan import WanLayout, index_components, is_local, is_wan_index, pipeline_layout, read_config, read_wan_layout

ANIMATEDIFF_SIZE_MULTIPLE = 8  # what t2v.generation checks for UNet models
ANIMATEDIFF_STOCK = {"num_frames": 16, "fps": 8}  # T2VAnimateDiffPipeline's stock settings (diffusers' defaults)
MOTION_MAX_SEQ_LENGTH = 32  # diffusers' MotionAdapter default


def wan_capabilities(layout: WanLayout) -> dict[str, Any]:
    """The capabilities of a Wan model of ``layout``."""
    task = layout.task
    notes = []
    if layout.image_dim is not None:
        notes.append(f"a CLIP image encoder conditions the transformer (image_dim {layout.image_dim})")
    if task == "i2v" and layout.image_dim is not None:
        notes.append("last_image is not taken: the image embedding has positions for one image only")
    if task == "flf2v":
        notes.append(f"first and last image natively: the image embedding has positions for two images "
                     f"(pos_embed_seq_len {layout.pos_embed_seq_len})")
    if layout.expand_timesteps:
        notes.append("a first image goes in as clean latent frame 0 (expand_timesteps, via "
                     "WanImageToVideoPipeline); last_image is ignored, so no native first-last frame")
    if layout.two_experts:
        notes.append(f"two experts (boundary_ratio {layout.boundary_ratio}): a LoRA must go into transformer "
                     "and transformer_2")
    if task == "vace":
        notes.append("keyframes at any frame index (control video and mask), and reference images")
    return {
        "backbone": "wan",
        "layout": layout.name,
        "pipeline": layout.pipeline_class,
        "text_to_video": task in ("t2v", "ti2v", "vace"),
        "first_frame": task in ("i2v", "flf2v", "ti2v", "vace"),
        "clip_image_encoder": layout.image_dim is not None,
        "native_first_last_frame": task == "flf2v",
        "keyframes_any_index": task == "vace",
        "reference_images": task == "vace",
        "two_experts": layout.two_experts,
        "lora_targets": list(layout.lora_targets),
        "frame_rule": f"{layout.scale_factor_temporal}k+1",
        "frame_step": layout.scale_factor_temporal,
        "max_frames": None,
        "size_multiple": layout.size_multiple,
        "latent_channels": layout.latent_channels,
        "native": dict(layout.native),
        "notes": notes,
    }


def animatediff_capabilities(pipeline: str, native: dict[str, Any], frame_limit: int) -> dict[str, Any]:
    """The capabilities of an AnimateDiff-family model (tiny-shapes included): one latent frame per frame, any
    count up to ``frame_limit``, the length its motion modules embed (as plain generation allows); first frames,
    transitions and keyframes come from t2v's masked temporal inpainting, not from the model."""
    return {
        "backbone": "animatediff",
        "layout": "animatediff",
        "pipeline": pipeline,
        "text_to_video": True,
        "first_frame": False,
        "clip_image_encoder": False,
        "native_first_last_frame": False,
        "keyframes_any_index": False,
        "reference_images": False,
        "two_experts": False,
        "lora_targets": ["unet"],
        "frame_rule": f"1 to {frame_limit}",
        "frame_step": 1,
        "max_frames": frame_limit,
        "size_multiple": ANIMATEDIFF_SIZE_MULTIPLE,
        "latent_channels": None,
        "native": native,
        "notes": [],
    }


def _is_wan_pipeline(pipe) -> bool:
    return any(cls.__name__.startswith("Wan") for cls in type(pipe).__mro__)


def capabilities(pipe) -> dict[str, Any]:
    """What the loaded ``pipe`` supports (see the module docstring), from its components' configs."""
    if _is_wan_pipeline(pipe):
        return wan_capabilities(pipeline_layout(pipe))
    if not hasattr(pipe, "unet"):
        raise ValueError(f"capabilities: {type(pipe).__name__} is neither a Wan nor an AnimateDiff pipeline")
    from ..generation import model_defaults

    defaults = model_defaults(pipe)
    limit = getattr(pipe.unet.config, "motion_max_seq_length", None) or MOTION_MAX_SEQ_LENGTH
    native = {"num_frames": int(defaults["frames"]), "fps": int(defaults["fps"]),
              "height": int(defaults["height"]), "width": int(defaults["width"])}
    return animatediff_capabilities(type(pipe).__name__, native, int(limit))


def _tiny_shapes_capabilities(path: Path) -> dict[str, Any]:
    card = model_card(path)
    unet = read_config(str(path), "config.json", "unet") or {}
    native = {"num_frames": int(card["frames"]), "fps": int(card.get("fps", 8)), "height": int(card["size"]),
              "width": int(card["size"])}
    return animatediff_capabilities("T2VAnimateDiffPipeline", native,
                                    int(unet.get("motion_max_seq_length") or MOTION_MAX_SEQ_LENGTH))


def _animatediff_config_capabilities(model: str, index: dict[str, Any]) -> dict[str, Any]:
    if "unet" not in index_components(index):
        raise ValueError(f"model {model!r} is a {index.get('_class_name')}, neither a Wan nor an AnimateDiff "
                         "(UNet) pipeline")
    unet = read_config(model, "config.json", "unet") or {}
    adapter = read_config(model, "config.json", "motion_adapter") or {}
    vae = read_config(model, "config.json", "vae") or {}
    frames = index.get("native_num_frames")
    limit = adapter.get("motion_max_seq_length") or unet.get("motion_max_seq_length") or MOTION_MAX_SEQ_LENGTH
    sample = unet.get("sample_size") or 64
    side = (sample if isinstance(sample, int) else sample[0]) * 2 ** (len(vae.get("block_out_channels", [0] * 4)) - 1)
    native = {"num_frames": int(frames or ANIMATEDIFF_STOCK["num_frames"]),
              "fps": int(index.get("native_fps") or ANIMATEDIFF_STOCK["fps"]), "height": side, "width": side}
    return animatediff_capabilities("T2VAnimateDiffPipeline", native, int(limit))


def model_capabilities(model: str = TINY_SHAPES) -> dict[str, Any]:
    """What ``model`` (a name, folder or hub id, as :func:`~t2v.models.load_pipeline` takes) supports, from its
    config files alone: no weights are read.

    A folder that does not exist, or a hub id that is neither cached nor reachable, is a FileNotFoundError;
    a folder that is not a model, or a Wan folder that cannot load, a ValueError.
    """
    from .loading import _missing_model_error

    if not isinstance(model, str) or not model.strip():
        raise ValueError(f"model must be a non-empty name, folder or hub id, got {model!r}")
    if model == TINY_SHAPES:
        if not (tiny_shapes_path() / MODEL_CARD).is_file():
            raise FileNotFoundError(f"the tiny-shapes weights are missing from {tiny_shapes_path()}")
        return _tiny_shapes_capabilities(tiny_shapes_path())
    path = Path(model).expanduser()
    if is_local(model) and not path.is_dir():
        raise FileNotFoundError(f"model {model!r} is neither 'tiny-shapes', an existing folder, nor a hub id")
    if path.is_dir() and is_tiny_shapes_folder(path):
        return _tiny_shapes_capabilities(path)
    try:
        index = read_config(model, "model_index.json")
        if index is None:
            raise ValueError(f"model {model!r} has no model_index.json: not a diffusers pipeline folder")
        if is_wan_index(index):
            return wan_capabilities(read_wan_layout(model, index))
        return _animatediff_config_capabilities(model, index)
    except OSError as err:
        raise _missing_model_error(model, err) from err
