"""LAION aesthetic score: the "improved aesthetic predictor" (Schuhmann, 2022), an MLP head on unit-norm
CLIP ViT-L/14 image embeddings, trained on human 1-10 ratings (SAC + LAION-Logos + AVA).

The head keeps the original module layout (``layers`` = Linear, Dropout, Linear, Dropout, Linear, Dropout,
Linear, Linear), so the original state dict's keys (``layers.0.weight`` ... ``layers.7.bias``) load unchanged
once saved as safetensors (:func:`convert_aesthetic_head`). CLIP is any transformers ``CLIPModel`` folder; the
head was trained on ``openai/clip-vit-large-patch14``, so use that one. Prompts are accepted and ignored: the
score rates the picture alone.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .base import Reward
from .clip_common import (
    CLIP_MEAN,
    CLIP_STD,
    PathLike,
    check_clip_folder,
    image_embeddings,
    load_clip_model,
    missing_weights,
    preprocess_frames,
    read_pixel_stats,
)

HEAD_FILE = "aesthetic_head.safetensors"
HEAD_HIDDEN: tuple[int, int, int, int] = (1024, 128, 64, 16)
HOW_TO_GET = (f"Put the CLIP ViT-L/14 transformers folder (openai/clip-vit-large-patch14: config.json, "
              f"model.safetensors) at path, or pass it as clip_path, and the predictor head as {HEAD_FILE} in path "
              "(or path = the head file). Make the head once from improved-aesthetic-predictor's "
              "sac+logos+ava1-l14-linearMSE.pth with t2v.rewards.aesthetic.convert_aesthetic_head(state_dict, "
              f"'{HEAD_FILE}'), reading the .pth yourself (torch.load(..., weights_only=True)) where you trust it.")


class AestheticMLP(nn.Module):
    """improved-aesthetic-predictor's head, module for module, so its state-dict keys match the original."""

    def __init__(self, input_size: int = 768) -> None:
        super().__init__()
        self.input_size = input_size
        self.layers = nn.Sequential(
            nn.Linear(input_size, HEAD_HIDDEN[0]),
            nn.Dropout(0.2),
            nn.Linear(HEAD_HIDDEN[0], HEAD_HIDDEN[1]),
            nn.Dropout(0.2),
            nn.Linear(HEAD_HIDDEN[1], HEAD_HIDDEN[2]),
            nn.Dropout(0.1),
            nn.Linear(HEAD_HIDDEN[2], HEAD_HIDDEN[3]),
            nn.Linear(HEAD_HIDDEN[3], 1),
        )

    def forward(self, embeddings: torch.Tensor) -> torch.Tensor:
        return self.layers(embeddings)

    @classmethod
    def from_state_dict(cls, state_dict: Mapping[str, torch.Tensor]) -> AestheticMLP:
        """A head holding ``state_dict`` (input size read from ``layers.0.weight``); ValueError if it does not fit."""
        first = state_dict.get("layers.0.weight")
        if not torch.is_tensor(first) or first.ndim != 2:
            raise ValueError(f"state_dict must be an aesthetic head with layers.0.weight ... layers.7.bias, "
                             f"got keys {sorted(state_dict)[:10]}")
        head = cls(input_size=int(first.shape[1]))
        try:
            head.load_state_dict(dict(state_dict), strict=True)
        except RuntimeError as error:
            raise ValueError(f"state_dict does not fit the aesthetic head layout: {error}") from error
        return head


def convert_aesthetic_head(state_dict: Mapping[str, torch.Tensor], output_file: PathLike) -> Path:
    """Save the original predictor's state dict (e.g. ``sac+logos+ava1-l14-linearMSE.pth``, loaded by you) as the
    safetensors head :class:`AestheticReward` reads, after checking it fits the layout; written atomically."""
    from safetensors.torch import save_file

    head = AestheticMLP.from_state_dict(state_dict)
    out = Path(output_file).expanduser()
    if out.suffix != ".safetensors":
        raise ValueError(f"output_file must end in .safetensors, got {str(out)!r}")
    out.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().float().contiguous() for k, v in head.state_dict().items()}
    handle, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    os.close(handle)
    try:
        save_file(tensors, tmp, metadata={"format": "pt"})
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out


class AestheticReward(Reward):
    """Per-frame LAION aesthetic score (about 1-10): the MLP head on each frame's unit-norm CLIP image embedding;
    differentiable in the frames. Prompts are ignored."""

    name = "aesthetic"
    per_frame = True
    differentiable = True

    def __init__(self, model: nn.Module, head: AestheticMLP, *, image_mean: Sequence[float] = CLIP_MEAN,
                 image_std: Sequence[float] = CLIP_STD) -> None:
        projection_dim = int(model.config.projection_dim)
        if head.input_size != projection_dim:
            raise ValueError(f"head takes {head.input_size}-d embeddings but the CLIP model gives {projection_dim}-d "
                             "(the LAION head needs CLIP ViT-L/14)")
        self.model = model
        self.head = head.to(model.device).eval().requires_grad_(False)
        self.image_size = int(model.config.vision_config.image_size)
        self.image_mean = tuple(image_mean)
        self.image_std = tuple(image_std)

    @classmethod
    def from_pretrained(cls, path: PathLike | None = None, *, clip_path: PathLike | None = None, dtype: Any = None,
                        device: str | torch.device | None = None) -> AestheticReward:
        """Load the head (``path/aesthetic_head.safetensors`` or ``path`` itself) and the CLIP (``clip_path``,
        default the folder ``path``). The head stays float32 whatever ``dtype`` the CLIP gets: it is tiny."""
        from safetensors.torch import load_file

        needed = f"the predictor head {HEAD_FILE} and a CLIP ViT-L/14 transformers folder"
        if path is None:
            raise missing_weights(cls.name, None, needed, HOW_TO_GET)
        given = Path(path).expanduser()
        head_file = given / HEAD_FILE if given.is_dir() else given
        if not head_file.is_file():
            raise missing_weights(cls.name, path, f"the predictor head {HEAD_FILE}", HOW_TO_GET)
        if head_file.suffix != ".safetensors":
            raise ValueError(f"path must be a folder holding {HEAD_FILE} or a .safetensors head, got {str(path)!r}")
        if clip_path is None and not given.is_dir():
            raise missing_weights(cls.name, None, "a CLIP ViT-L/14 transformers folder (clip_path)", HOW_TO_GET)
        folder = check_clip_folder(cls.name, given if clip_path is None else clip_path, HOW_TO_GET, tokenizer=False)
        head = AestheticMLP.from_state_dict(load_file(head_file))
        model = load_clip_model(folder, dtype=dtype, device=device)
        mean, std = read_pixel_stats(folder)
        return cls(model, head, image_mean=mean, image_std=std)

    def score(self, frames: torch.Tensor, prompts: list[str]) -> torch.Tensor:
        batch, num_frames = frames.shape[:2]
        pixels = preprocess_frames(frames.flatten(0, 1), self.image_size, self.image_mean, self.image_std)
        embeddings = image_embeddings(self.model, pixels)
        head_param = next(self.head.parameters())
        scores = self.head(embeddings.to(device=head_param.device, dtype=head_param.dtype))
        return scores.view(batch, num_frames)

    def to(self, device: torch.device | str) -> AestheticReward:
        self.model.to(device)
        self.head.to(device)
        return self
