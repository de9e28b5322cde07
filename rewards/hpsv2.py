"""HPSv2 (Wu et al., 2023): Human Preference Score v2, a CLIP ViT-H/14 fine-tuned on human preference pairs.

The score is HPSv2's reference ``score()``: the cosine of the unit-norm image and text features (no logit
scale), about 0.2-0.35 on real images.

Weights. The official checkpoints (``HPS_v2_compressed.pt``, ``HPS_v2.1_compressed.pt``) are pickled open_clip
``ViT-H-14`` state dicts, and open_clip needs torchvision. t2v loads neither pickles nor open_clip: ViT-H-14 is
the same network as a transformers ``CLIPModel`` with GELU activations, so :func:`convert_hpsv2_checkpoint`
renames the open_clip keys once (:func:`open_clip_to_transformers`: ``in_proj`` split into q/k/v, the
``proj`` matrices transposed into linear weights) and writes a transformers folder in safetensors, which
:meth:`HPSv2Reward.from_pretrained` loads. The conversion takes a state dict, so the one pickle read happens in
your code, where you decide to trust the file::

    import torch
    from t2v.rewards.hpsv2 import convert_hpsv2_checkpoint

    state = torch.load("HPS_v2.1_compressed.pt", map_location="cpu", weights_only=True)
    convert_hpsv2_checkpoint(state, "hpsv2.1-transformers", tokenizer_dir="CLIP-ViT-H-14-laion2B-s32B-b79K")

An open_clip state dict saved as ``.safetensors`` can be given by its path instead.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from .clip_common import CLIPSimilarityReward, PathLike

HOW_TO_GET = ("Convert the official HPSv2 checkpoint (HPS_v2_compressed.pt or HPS_v2.1_compressed.pt) once with "
              "t2v.rewards.hpsv2.convert_hpsv2_checkpoint(state_dict, out_dir, tokenizer_dir=...), reading the .pt "
              "yourself (torch.load(..., weights_only=True)) where you trust it; tokenizer_dir is any CLIP tokenizer "
              "folder such as laion/CLIP-ViT-H-14-laion2B-s32B-b79K. Then pass out_dir as path.")

# Causal masks some open_clip versions keep in the state dict; transformers builds its own.
_IGNORED_KEYS = frozenset({"attn_mask", "visual.attn_mask"})

_DIRECT_KEYS: dict[str, str] = {
    "visual.conv1.weight": "vision_model.embeddings.patch_embedding.weight",
    "visual.class_embedding": "vision_model.embeddings.class_embedding",
    "visual.positional_embedding": "vision_model.embeddings.position_embedding.weight",
    "visual.ln_pre.weight": "vision_model.pre_layrnorm.weight",
    "visual.ln_pre.bias": "vision_model.pre_layrnorm.bias",
    "visual.ln_post.weight": "vision_model.post_layernorm.weight",
    "visual.ln_post.bias": "vision_model.post_layernorm.bias",
    "token_embedding.weight": "text_model.embeddings.token_embedding.weight",
    "positional_embedding": "text_model.embeddings.position_embedding.weight",
    "ln_final.weight": "text_model.final_layer_norm.weight",
    "ln_final.bias": "text_model.final_layer_norm.bias",
    "logit_scale": "logit_scale",
}
# open_clip keeps projections as (width, embed_dim) matrices applied as ``x @ proj``; nn.Linear stores the transpose.
_TRANSPOSED_KEYS: dict[str, str] = {
    "visual.proj": "visual_projection.weight",
    "text_projection": "text_projection.weight",
}
_BLOCK_KEYS: dict[str, str] = {
    "ln_1": "layer_norm1",
    "ln_2": "layer_norm2",
    "attn.out_proj": "self_attn.out_proj",
    "mlp.c_fc": "mlp.fc1",
    "mlp.c_proj": "mlp.fc2",
}
_BLOCK = re.compile(r"^(visual\.)?transformer\.resblocks\.(\d+)\.(.+)\.(weight|bias)$")
_IN_PROJ = re.compile(r"^(visual\.)?transformer\.resblocks\.(\d+)\.attn\.in_proj_(weight|bias)$")


def _block_key(key: str, value: torch.Tensor) -> dict[str, torch.Tensor] | None:
    """A transformer-block key in transformers naming (``in_proj`` becomes three tensors); None if unknown."""
    if match := _IN_PROJ.match(key):
        tower = "vision_model" if match.group(1) else "text_model"
        prefix = f"{tower}.encoder.layers.{match.group(2)}.self_attn"
        query, key_, value_ = value.chunk(3, dim=0)
        kind = match.group(3)
        return {f"{prefix}.q_proj.{kind}": query.clone(), f"{prefix}.k_proj.{kind}": key_.clone(),
                f"{prefix}.v_proj.{kind}": value_.clone()}
    if (match := _BLOCK.match(key)) and match.group(3) in _BLOCK_KEYS:
        tower = "vision_model" if match.group(1) else "text_model"
        return {f"{tower}.encoder.layers.{match.group(2)}.{_BLOCK_KEYS[match.group(3)]}.{match.group(4)}": value}
    return None


def open_clip_to_transformers(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """An open_clip ``CLIP`` state dict (ViT image tower, standard text tower) in transformers ``CLIPModel`` keys.

    Accepts the ``module.`` prefix of DDP checkpoints and the ``text.`` prefix of open_clip's ``CustomTextCLIP``.
    Raises ``ValueError`` listing any key it cannot place (e.g. layer scale or attention pooling, which
    ``CLIPModel`` does not have), rather than dropping weights silently.
    """
    if not isinstance(state_dict, Mapping):
        raise ValueError(f"state_dict must be a mapping of names to tensors, got {type(state_dict).__name__}")
    converted: dict[str, torch.Tensor] = {}
    unknown: list[str] = []
    for raw_key, value in state_dict.items():
        key = raw_key.removeprefix("module.")
        key = key.removeprefix("text.")
        if key in _IGNORED_KEYS:
            continue
        if not torch.is_tensor(value):
            raise ValueError(f"state_dict[{raw_key!r}] must be a tensor, got {type(value).__name__}")
        if key in _DIRECT_KEYS:
            converted[_DIRECT_KEYS[key]] = value
        elif key in _TRANSPOSED_KEYS:
            converted[_TRANSPOSED_KEYS[key]] = value.t().contiguous()
        elif (block := _block_key(key, value)) is not None:
            converted.update(block)
        else:
            unknown.append(raw_key)
    if unknown:
        raise ValueError(f"state_dict has keys with no CLIPModel counterpart: {sorted(unknown)[:10]}"
                         f"{' ...' if len(unknown) > 10 else ''}")
    return converted


def hpsv2_clip_config(**overrides: Any) -> Any:
    """open_clip's ``ViT-H-14`` (HPSv2's network) as a transformers ``CLIPConfig``: exact GELU, not QuickGELU."""
    from transformers import CLIPConfig

    text = {"vocab_size": 49408, "hidden_size": 1024, "intermediate_size": 4096, "num_hidden_layers": 24,
            "num_attention_heads": 16, "max_position_embeddings": 77, "hidden_act": "gelu", "layer_norm_eps": 1e-5,
            "bos_token_id": 49406, "eos_token_id": 49407, "pad_token_id": 49407}
    vision = {"hidden_size": 1280, "intermediate_size": 5120, "num_hidden_layers": 32, "num_attention_heads": 16,
              "image_size": 224, "patch_size": 14, "hidden_act": "gelu", "layer_norm_eps": 1e-5}
    settings: dict[str, Any] = {"text_config": text, "vision_config": vision, "projection_dim": 1024}
    settings.update(overrides)
    return CLIPConfig(**settings)


def _read_checkpoint(checkpoint: Mapping[str, Any] | PathLike) -> Mapping[str, Any]:
    """The state dict in ``checkpoint``: a mapping (HPSv2's ``{"state_dict": ...}`` or a bare state dict) or a
    ``.safetensors`` path."""
    if isinstance(checkpoint, (str, os.PathLike)):
        path = Path(checkpoint).expanduser()
        if path.suffix != ".safetensors":
            raise ValueError(f"checkpoint must be a state dict or a .safetensors file, got {str(path)!r}; read a "
                             "pickled .pt yourself (torch.load(path, map_location='cpu', weights_only=True)) and "
                             "pass the result")
        if not path.is_file():
            raise FileNotFoundError(f"checkpoint {str(path)!r} does not exist")
        from safetensors.torch import load_file

        return load_file(path)
    if isinstance(checkpoint, Mapping) and isinstance(checkpoint.get("state_dict"), Mapping):
        return checkpoint["state_dict"]
    return checkpoint


def convert_hpsv2_checkpoint(checkpoint: Mapping[str, Any] | PathLike, output_dir: PathLike, *,
                             tokenizer_dir: PathLike, config: Any = None, dtype: torch.dtype | None = None) -> Path:
    """Write an open_clip HPSv2 checkpoint as a transformers CLIP folder that :class:`HPSv2Reward` loads.

    Args:
        checkpoint: the loaded ``.pt`` (``{"state_dict": ...}``), a bare open_clip state dict, or a path to one
            saved as ``.safetensors``.
        output_dir: the folder to create (must not exist or be empty); written to a temporary folder first.
        tokenizer_dir: a folder with CLIP's tokenizer files (HPSv2 uses open_clip's ViT-H-14 tokenizer, which is
            OpenAI CLIP's BPE, e.g. the laion/CLIP-ViT-H-14-laion2B-s32B-b79K folder); copied into the output.
        config: the transformers ``CLIPConfig``; default :func:`hpsv2_clip_config` (ViT-H-14).
        dtype: store the weights in this dtype (default: the checkpoint's).

    The result is loaded back through ``CLIPModel.from_pretrained`` and refused (``ValueError``) unless every
    weight found its place.
    """
    from safetensors.torch import save_file
    from transformers import CLIPModel, CLIPTokenizerFast

    out = Path(output_dir).expanduser()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ValueError(f"output_dir must be a new or empty folder, got {str(out)!r}")
    tok_folder = Path(tokenizer_dir).expanduser()
    if not any((tok_folder / name).is_file() for name in ("tokenizer.json", "vocab.json")):
        raise FileNotFoundError(f"tokenizer_dir {str(tok_folder)!r} has no CLIP tokenizer files "
                                "(vocab.json + merges.txt or tokenizer.json)")
    converted = open_clip_to_transformers(_read_checkpoint(checkpoint))
    target = dtype or converted["vision_model.embeddings.patch_embedding.weight"].dtype
    converted = {k: (v.to(target) if v.is_floating_point() else v).contiguous() for k, v in converted.items()}
    config = hpsv2_clip_config() if config is None else config

    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        config.save_pretrained(work)
        save_file(converted, work / "model.safetensors", metadata={"format": "pt"})
        CLIPTokenizerFast.from_pretrained(tok_folder).save_pretrained(work)
        try:
            _, info = CLIPModel.from_pretrained(work, output_loading_info=True, use_safetensors=True)
        except RuntimeError as error:  # size mismatches
            raise ValueError(f"config does not fit the checkpoint: {error}") from error
        problems = {name: info.get(name) for name in ("missing_keys", "unexpected_keys", "mismatched_keys")
                    if info.get(name)}
        if problems:
            raise ValueError(f"config does not fit the checkpoint: {problems}")
        if out.exists():
            out.rmdir()
        os.replace(work, out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return out


class HPSv2Reward(CLIPSimilarityReward):
    """Per-frame HPSv2: ``cosine(image embedding, text embedding)`` of the preference-tuned ViT-H/14;
    differentiable in the frames. HPSv2 and HPSv2.1 share the architecture and load alike."""

    name = "hpsv2"
    per_frame = True
    differentiable = True

    @classmethod
    def from_pretrained(cls, path: PathLike | None = None, *, tokenizer_path: PathLike | None = None,
                        dtype: Any = None, device: str | torch.device | None = None) -> HPSv2Reward:
        """Load a folder written by :func:`convert_hpsv2_checkpoint` (or any transformers-format HPSv2)."""
        return cls._load(path, HOW_TO_GET, tokenizer_path=tokenizer_path, dtype=dtype, device=device)
