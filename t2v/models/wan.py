"""Wan 2.1 / 2.2 model folders: which layout a folder holds, read from its configs, and loading it.

A diffusers Wan folder says what it is in ``model_index.json`` (the pipeline class, which components are
there, ``boundary_ratio``, ``expand_timesteps``) and in its transformer's and VAE's ``config.json``
(``image_dim``, ``pos_embed_seq_len``, channel counts, patch and VAE factors). Reading those small files
first means a wrong or incomplete folder is refused in a second, with a message that says what is
missing, rather than after minutes of loading weights (or, for an I2V model without its image encoder,
with a ``TypeError`` from the middle of the first generation).

The layouts:

* T2V (2.1), two-expert T2V (2.2 A14B: ``transformer_2`` and ``boundary_ratio``) and TI2V-5B (2.2:
  ``expand_timesteps``, a 48-channel VAE) load as :class:`~t2v.pipelines.pipeline_t2v_wan.T2VWanPipeline`;
* I2V load as diffusers' ``WanImageToVideoPipeline``: 2.1 with a CLIP image encoder (``image_dim``), its
  FLF2V variant (``pos_embed_seq_len``: positions for a first and a last image), 2.2 A14B (two experts,
  no CLIP encoder);
* VACE loads as diffusers' ``WanVACEPipeline`` (control video, masks, reference images).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

T2V_CLASSES = ("WanPipeline", "T2VWanPipeline", "WanVideoToVideoPipeline")  # the last runs T2V weights
I2V_CLASS = "WanImageToVideoPipeline"
VACE_CLASS = "WanVACEPipeline"
WAN_CLASSES = (*T2V_CLASSES, I2V_CLASS, VACE_CLASS)

STOCK_NATIVE = {"num_frames": 81, "fps": 16, "height": 480, "width": 832}  # diffusers' Wan defaults (2.1 480P)
TI2V_NATIVE = {"num_frames": 121, "fps": 24, "height": 704, "width": 1280}  # Wan 2.2 TI2V-5B: 720P at 24 fps


def is_local(name: str) -> bool:
    """Whether ``name`` means a path rather than a hub id (``owner/name``)."""
    return name.startswith((".", "/", "~")) or name.count("/") != 1 or Path(name).expanduser().is_dir()


def read_config(model: str, filename: str, subfolder: str | None = None) -> dict[str, Any] | None:
    """A JSON config of a model folder or hub id; None when the folder (or the hub repo) has no such file.

    Raises OSError when a hub id cannot be reached and is not in the local cache.
    """
    if is_local(model):
        path = Path(model).expanduser() / (subfolder or "") / filename
        return json.loads(path.read_text()) if path.is_file() else None
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError, LocalEntryNotFoundError

    try:
        path = hf_hub_download(model, filename, subfolder=subfolder)
    except LocalEntryNotFoundError:
        raise  # offline and not cached: the caller says the model is missing
    except EntryNotFoundError:
        return None
    return json.loads(Path(path).read_text())


def _is_t2v_subclass_name(name: str) -> bool:
    """t2v's own Wan pipelines (``TransitionWanPipeline``, ...) subclass T2VWanPipeline and save its components."""
    return name.endswith("WanPipeline") and not name.startswith("Wan")


def is_wan_index(index: dict[str, Any] | None) -> bool:
    """Whether a ``model_index.json`` is a Wan pipeline's (any Wan class, even one t2v does not load)."""
    index = index or {}
    name = index.get("_class_name") or ""
    transformer = (index.get("transformer") or index.get("transformer_2") or [None, None])[1] or ""
    return name in WAN_CLASSES or name.startswith("Wan") or _is_t2v_subclass_name(name) \
        or transformer.startswith("Wan")


def index_components(index: dict[str, Any]) -> tuple[str, ...]:
    """The components a ``model_index.json`` (or a pipeline's config) names with a class, not ``[null, null]``."""
    return tuple(sorted(name for name, value in index.items() if not name.startswith("_")
                        and isinstance(value, (list, tuple)) and len(value) == 2 and value[1] is not None))


@dataclass(frozen=True)
class WanLayout:
    """What a Wan model is, from its configs alone."""

    pipeline_class: str  # the class load_pipeline builds
    task: str  # "t2v", "ti2v", "i2v", "flf2v" or "vace"
    components: tuple[str, ...]
    two_experts: bool
    boundary_ratio: float | None
    expand_timesteps: bool
    in_channels: int
    latent_channels: int
    image_dim: int | None
    pos_embed_seq_len: int | None
    patch_size: tuple[int, ...]
    scale_factor_spatial: int
    scale_factor_temporal: int
    native: dict[str, Any] = field(default_factory=dict)

    @property
    def version(self) -> str:
        return "2.2" if self.two_experts or self.expand_timesteps or self.latent_channels == 48 else "2.1"

    @property
    def name(self) -> str:
        """E.g. ``wan2.1-flf2v``, ``wan2.2-t2v-a14b``, ``wan2.2-ti2v``."""
        return f"wan{self.version}-{self.task}" + ("-a14b" if self.two_experts else "")

    @property
    def size_multiple(self) -> int:
        """Height and width must be multiples of this: the VAE's spatial factor times the patch (and diffusers'
        I2V pipeline asks for 16 on top)."""
        multiple = self.scale_factor_spatial * int(self.patch_size[1])
        return max(multiple, 16) if self.pipeline_class == I2V_CLASS else multiple

    @property
    def experts(self) -> tuple[str, ...]:
        """The transformers present: where a LoRA goes, and what an attention backend or a cache is set on."""
        return tuple(name for name in ("transformer", "transformer_2") if name in self.components)

    @property
    def lora_targets(self) -> tuple[str, ...]:
        return self.experts


def _task(pipeline_class: str, transformer: dict[str, Any], expand_timesteps: bool) -> str:
    if pipeline_class == VACE_CLASS:
        return "vace"
    if expand_timesteps:
        return "ti2v"
    if pipeline_class == I2V_CLASS:
        return "flf2v" if transformer.get("pos_embed_seq_len") else "i2v"
    return "t2v"


def _check_channels(name: str, task: str, pipeline_class: str, in_channels: int, latent_channels: int) -> None:
    """The transformer's input must match what the pipeline class feeds it, else the first step fails."""
    image_latents = pipeline_class == I2V_CLASS and task != "ti2v"
    expected = 2 * latent_channels + 4 if image_latents else latent_channels
    if in_channels != expected:
        kind = "an image-to-video" if in_channels == 2 * latent_channels + 4 else "a text-to-video"
        raise ValueError(
            f"model {name!r}: its transformer takes {in_channels} input channels, {kind} transformer, but "
            f"model_index.json names {pipeline_class}, which feeds it {expected} (VAE latents of "
            f"{latent_channels} channels)")


def wan_layout(name: str, index: dict[str, Any], transformer: dict[str, Any] | None, vae: dict[str, Any] | None,
               image_encoder_found: bool = True) -> WanLayout:
    """The layout of a Wan model from its ``model_index.json``, transformer and VAE configs.

    ``image_encoder_found``: whether the image encoder's files are there (a local folder without its
    ``image_encoder/`` has it named in ``model_index.json`` yet cannot load it).
    """
    pipeline_class = index.get("_class_name")
    if _is_t2v_subclass_name(pipeline_class or ""):
        pipeline_class = "T2VWanPipeline"
    if pipeline_class not in WAN_CLASSES:
        raise ValueError(f"model {name!r} is a {pipeline_class}, which t2v does not load; it loads "
                         f"{', '.join(WAN_CLASSES)}")
    if transformer is None or vae is None:
        missing = "transformer (or transformer_2)" if transformer is None else "vae"
        raise ValueError(f"model {name!r} has no {missing} config: not a complete diffusers Wan folder")
    components = index_components(index)
    expand_timesteps = bool(index.get("expand_timesteps"))
    task = _task(pipeline_class, transformer, expand_timesteps)
    in_channels, latent_channels = int(transformer["in_channels"]), int(vae.get("z_dim", 16))
    _check_channels(name, task, pipeline_class, in_channels, latent_channels)
    image_dim = transformer.get("image_dim")
    if image_dim is not None:
        if pipeline_class != I2V_CLASS:
            raise ValueError(f"model {name!r}: its transformer takes CLIP image embeddings (image_dim={image_dim}) "
                             f"but model_index.json names {pipeline_class}, which gives it none")
        lacking = [part for part in ("image_encoder", "image_processor") if part not in components]
        if lacking or not image_encoder_found:
            what = " and ".join(lacking) if lacking else "image_encoder files"
            raise ValueError(
                f"model {name!r} is a Wan 2.1 image-to-video model (its transformer takes CLIP image embeddings, "
                f"image_dim={image_dim}) but has no {what}: add the image encoder (CLIPVisionModel) and its "
                "image_processor (CLIPImageProcessor) of the Wan 2.1 I2V release to the folder and model_index.json")
    two_experts = "transformer" in components and "transformer_2" in components
    native = dict(TI2V_NATIVE if task == "ti2v" else STOCK_NATIVE)
    for key in native:
        if index.get(f"native_{key}"):
            native[key] = index[f"native_{key}"]
    return WanLayout(
        pipeline_class="T2VWanPipeline" if pipeline_class in T2V_CLASSES else pipeline_class,
        task=task, components=components, two_experts=two_experts,
        boundary_ratio=index.get("boundary_ratio"), expand_timesteps=expand_timesteps,
        in_channels=in_channels, latent_channels=latent_channels, image_dim=image_dim,
        pos_embed_seq_len=transformer.get("pos_embed_seq_len"),
        patch_size=tuple(transformer.get("patch_size", (1, 2, 2))),
        scale_factor_spatial=int(vae.get("scale_factor_spatial", 8)),
        scale_factor_temporal=int(vae.get("scale_factor_temporal", 4)), native=native)


def read_wan_layout(model: str, index: dict[str, Any]) -> WanLayout:
    """:func:`wan_layout` of a folder or hub id whose ``model_index.json`` is ``index`` (configs only)."""
    components = index_components(index)
    expert = "transformer" if "transformer" in components else "transformer_2"
    transformer = read_config(model, "config.json", expert) if expert in components else None
    vae = read_config(model, "config.json", "vae") if "vae" in components else None
    found = True
    if "image_encoder" in components and is_local(model):
        found = (Path(model).expanduser() / "image_encoder" / "config.json").is_file()
    return wan_layout(model, index, transformer, vae, image_encoder_found=found)


def pipeline_layout(pipe) -> WanLayout:
    """:func:`wan_layout` of a loaded Wan pipeline, from its own configs."""
    transformer = pipe.transformer if getattr(pipe, "transformer", None) is not None else pipe.transformer_2
    # a subclass (a t2v pipeline built on T2VWanPipeline or on a diffusers Wan class) answers as that class
    known = next((cls.__name__ for cls in type(pipe).__mro__ if cls.__name__ in WAN_CLASSES), type(pipe).__name__)
    index = {**dict(pipe.config), "_class_name": known}
    return wan_layout(type(pipe).__name__, index, dict(transformer.config), dict(pipe.vae.config),
                      image_encoder_found=getattr(pipe, "image_encoder", None) is not None)


def check_wan_extras(layout: WanLayout) -> None:
    """diffusers' I2V and VACE pipelines clean every prompt with ftfy without checking it is installed: say so
    at load time rather than with a NameError at the first call."""
    import importlib.util

    if layout.pipeline_class in (I2V_CLASS, VACE_CLASS) and importlib.util.find_spec("ftfy") is None:
        raise ValueError(f"{layout.pipeline_class} needs the ftfy package (diffusers cleans prompts with it): "
                         "pip install 't2v[wan]'")


def check_dtype(dtype: Any, components: tuple[str, ...]) -> None:
    """``dtype`` is one torch dtype, or a dict of them by component name (and ``"default"``, for the rest)."""
    import torch

    if dtype is None or isinstance(dtype, torch.dtype):
        return
    if not isinstance(dtype, dict):
        raise ValueError(f"dtype must be a torch dtype or a dict of them by component, got {dtype!r}")
    allowed = (*components, "default")
    for key, value in dtype.items():
        if key not in allowed:
            raise ValueError(f"dtype names component {key!r}, which this model has not; its components are "
                             f"{', '.join(allowed)}")
        if not isinstance(value, torch.dtype):
            raise ValueError(f"dtype[{key!r}] must be a torch dtype, got {value!r}")


def load_wan_pipeline(model: str, layout: WanLayout, dtype: Any = None):
    """The pipeline of ``layout.pipeline_class`` from ``model``; T2V models get their layout's native settings
    (TI2V-5B: 121 frames, 24 fps, 704x1280) unless their folder states its own.

    OSError (weights missing, offline) is left to the caller, which names the model.
    """
    import diffusers

    if layout.pipeline_class == "T2VWanPipeline":
        from ..pipelines.pipeline_t2v_wan import T2VWanPipeline as pipeline_class
    else:
        pipeline_class = getattr(diffusers, layout.pipeline_class)
    kwargs: dict[str, Any] = {}
    if dtype is not None:
        kwargs["dtype"] = dtype
    if layout.pipeline_class == "T2VWanPipeline" and layout.task == "ti2v":
        kwargs.update({f"native_{key}": value for key, value in layout.native.items()})
    return pipeline_class.from_pretrained(model, **kwargs)


SECOND_EXPERT_LORA = "pytorch_lora_weights_transformer_2.safetensors"


def load_wan_lora(pipe, lora: str, scale: float) -> None:
    """A LoRA into the Wan transformer, and into both experts of a two-expert model (each denoises part of the
    steps, so a LoRA in one of them would act on only those steps). A folder written by reward fine-tuning
    holds the low-noise expert's own LoRA in :data:`SECOND_EXPERT_LORA`; a single LoRA goes into both."""
    experts = [name for name in ("transformer", "transformer_2") if getattr(pipe, name, None) is not None]
    second = Path(lora).expanduser() / SECOND_EXPERT_LORA
    for name in experts:
        kwargs = {"weight_name": SECOND_EXPERT_LORA} if name == "transformer_2" and second.is_file() else {}
        pipe.load_lora_weights(lora, adapter_name="t2v", load_into_transformer_2=name == "transformer_2", **kwargs)
    pipe.set_adapters(["t2v"], adapter_weights=[scale])
