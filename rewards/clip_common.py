"""What the CLIP-family rewards (CLIP score, PickScore, HPSv2, aesthetic) share: loading a transformers CLIP
folder (safetensors only, no remote code), differentiable frame preprocessing and prompt encoding.

The image side stays differentiable so reward fine-tuning can backpropagate into the frames: frames are
resized with ``torch.nn.functional.interpolate`` (bicubic, antialiased, shortest side to the model's image
size, as CLIP's PIL preprocessing does), centre-cropped and normalised with the model's mean and std. The text
side runs without gradients: prompts are inputs, not something being optimised.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from .base import Reward

# OpenAI CLIP's pixel statistics; HPSv2, PickScore and the LAION models use them too.
CLIP_MEAN: tuple[float, float, float] = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD: tuple[float, float, float] = (0.26862954, 0.26130258, 0.27577711)

PathLike = str | os.PathLike[str]


def default_device() -> str:
    """CUDA when present, else CPU (what the rest of t2v does when no device is given)."""
    return "cuda" if torch.cuda.is_available() else "cpu"


def missing_weights(reward: str, path: PathLike | None, needed: str, how: str) -> FileNotFoundError:
    """The error every adapter raises when its weights are absent: what to put where, and how to get it."""
    where = "no path was given" if path is None else f"{str(path)!r} does not hold them"
    return FileNotFoundError(f"{reward} needs {needed}; {where}. {how} (t2v never downloads reward weights.)")


def check_clip_folder(reward: str, path: PathLike | None, how: str, *, tokenizer: bool = True) -> Path:
    """``path`` as a folder holding a transformers CLIP checkpoint in safetensors (and a tokenizer)."""
    needed = "a local transformers CLIP folder (config.json, model.safetensors" + (
        ", tokenizer files: vocab.json + merges.txt or tokenizer.json)" if tokenizer else ")")
    if path is None:
        raise missing_weights(reward, None, needed, how)
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise missing_weights(reward, path, needed, how)
    if not (folder / "config.json").is_file():
        raise missing_weights(reward, path, needed + " - config.json is missing", how)
    if not any((folder / name).is_file() for name in ("model.safetensors", "model.safetensors.index.json")):
        pickled = sorted(p.name for p in folder.iterdir() if p.suffix in (".bin", ".pt", ".pth", ".ckpt"))
        extra = f" - found only pickled weights {pickled}, which t2v does not load" if pickled else ""
        raise missing_weights(reward, path, needed + f" - model.safetensors is missing{extra}", how)
    return folder


def read_pixel_stats(folder: Path) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """``(mean, std)`` from the folder's ``preprocessor_config.json`` when it has them, else OpenAI CLIP's."""
    config_file = folder / "preprocessor_config.json"
    if config_file.is_file():
        config = json.loads(config_file.read_text(encoding="utf-8"))
        mean, std = config.get("image_mean"), config.get("image_std")
        if isinstance(mean, list) and isinstance(std, list) and len(mean) == len(std) == 3:
            return tuple(float(m) for m in mean), tuple(float(s) for s in std)
    return CLIP_MEAN, CLIP_STD


def load_clip_model(folder: Path, *, dtype: Any = None, device: str | torch.device | None = None) -> torch.nn.Module:
    """A frozen, eval-mode transformers ``CLIPModel`` from ``folder`` (safetensors only, no remote code).

    ``dtype``: a torch dtype or its name (e.g. ``"float16"`` on a GPU); None keeps transformers' default.
    ``device``: None picks CUDA when present.
    """
    from transformers import CLIPModel

    from t2v.llm import resolve_dtype

    model = CLIPModel.from_pretrained(folder, dtype=resolve_dtype(dtype), use_safetensors=True)
    model.requires_grad_(False)
    return model.to(device or default_device()).eval()


def load_clip_tokenizer(reward: str, folder: Path, how: str) -> Any:
    """The CLIP tokenizer saved in ``folder`` (no download); the fast class, which both transformers 4 and 5 have
    and which needs no ``tokenizer_config.json``."""
    from transformers import CLIPTokenizerFast

    if not any((folder / name).is_file() for name in ("tokenizer.json", "vocab.json")):
        raise missing_weights(reward, folder, "CLIP tokenizer files (vocab.json + merges.txt or tokenizer.json)",
                              how)
    return CLIPTokenizerFast.from_pretrained(folder)


def preprocess_frames(frames: torch.Tensor, size: int, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """Images ``(N, 3, H, W)`` in [0, 1] → CLIP pixel values ``(N, 3, size, size)``, differentiably.

    Shortest side to ``size`` (bicubic with antialiasing, which follows PIL's bicubic resize that CLIP's
    reference preprocessing uses), centre crop, ``(x - mean) / std``. Computed in float32 whatever the input
    dtype, since half-precision bicubic is not available on every device.
    """
    x = frames.float()
    height, width = x.shape[-2:]
    short = min(height, width)
    new_h, new_w = (size, int(size * width / height)) if height == short else (int(size * height / width), size)
    if (new_h, new_w) != (height, width):
        x = F.interpolate(x, size=(new_h, new_w), mode="bicubic", align_corners=False, antialias=True)
    top, left = (new_h - size) // 2, (new_w - size) // 2
    x = x[..., top:top + size, left:left + size]
    mean_t = torch.tensor(mean, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    std_t = torch.tensor(std, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    return (x - mean_t) / std_t


def _pooled(output: Any) -> torch.Tensor:
    """The projected embedding from ``get_*_features``: a tensor before transformers 5, a ModelOutput after."""
    if torch.is_tensor(output):
        return output
    for name in ("pooler_output", "image_embeds", "text_embeds"):
        value = getattr(output, name, None)
        if value is not None:
            return value
    raise TypeError(f"unexpected CLIP output {type(output).__name__}")


def image_embeddings(model: torch.nn.Module, pixel_values: torch.Tensor) -> torch.Tensor:
    """Unit-norm projected image embeddings ``(N, D)`` of a ``CLIPModel``, differentiable in the pixels."""
    pixel_values = pixel_values.to(device=model.device, dtype=model.dtype)
    embeds = _pooled(model.get_image_features(pixel_values=pixel_values))
    return F.normalize(embeds.float(), dim=-1)


@torch.no_grad()
def text_embeddings(model: torch.nn.Module, tokenizer: Any, prompts: list[str]) -> torch.Tensor:
    """Unit-norm projected text embeddings ``(B, D)``; prompts longer than the model's context are truncated."""
    max_length = model.config.text_config.max_position_embeddings
    tokens = tokenizer(prompts, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    embeds = _pooled(model.get_text_features(input_ids=tokens["input_ids"].to(model.device),
                                             attention_mask=tokens["attention_mask"].to(model.device)))
    return F.normalize(embeds.float(), dim=-1)


class CLIPSimilarityReward(Reward):
    """A per-frame, differentiable reward from the cosine between each frame's and its prompt's CLIP embedding.

    Subclasses say how the cosine becomes their score (:meth:`from_cosine`) and how their weights load.
    """

    def __init__(self, model: torch.nn.Module, tokenizer: Any, *, image_mean: Sequence[float] = CLIP_MEAN,
                 image_std: Sequence[float] = CLIP_STD) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.image_size = int(model.config.vision_config.image_size)
        self.image_mean = tuple(image_mean)
        self.image_std = tuple(image_std)

    @classmethod
    def _load(cls, path: PathLike | None, how: str, *, tokenizer_path: PathLike | None = None, dtype: Any = None,
              device: str | torch.device | None = None, **kwargs: Any) -> CLIPSimilarityReward:
        """Model, tokenizer and pixel statistics from a CLIP folder; ``how`` says how to get missing weights."""
        folder = check_clip_folder(cls.name, path, how, tokenizer=tokenizer_path is None)
        tok_folder = folder if tokenizer_path is None else Path(tokenizer_path).expanduser()
        tokenizer = load_clip_tokenizer(cls.name, tok_folder, how)
        model = load_clip_model(folder, dtype=dtype, device=device)
        mean, std = read_pixel_stats(folder)
        return cls(model, tokenizer, image_mean=mean, image_std=std, **kwargs)

    def cosine(self, frames: torch.Tensor, prompts: list[str]) -> torch.Tensor:
        """Cosine similarity ``(B, F)`` of each frame with its video's prompt."""
        batch, num_frames = frames.shape[:2]
        pixels = preprocess_frames(frames.flatten(0, 1), self.image_size, self.image_mean, self.image_std)
        images = image_embeddings(self.model, pixels).view(batch, num_frames, -1)
        texts = text_embeddings(self.model, self.tokenizer, prompts).to(images.device)
        return (images * texts[:, None, :]).sum(dim=-1)

    def from_cosine(self, cosine: torch.Tensor) -> torch.Tensor:
        """The score from the cosine; the identity unless a subclass scales it."""
        return cosine

    def score(self, frames: torch.Tensor, prompts: list[str]) -> torch.Tensor:
        return self.from_cosine(self.cosine(frames, prompts))

    def to(self, device: torch.device | str) -> CLIPSimilarityReward:
        self.model.to(device)
        return self
