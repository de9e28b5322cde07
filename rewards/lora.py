"""LoRA on a UNetMotionModel's attention through PEFT, and its export in the diffusers format that a stock
``AnimateDiffPipeline.load_lora_weights`` reads (with the adapter's rank and alpha in the file's metadata)."""

from __future__ import annotations

import re
from pathlib import Path

import torch

ADAPTER_NAME = "default"
_BLOCK_PATTERNS = {"spatial": "attentions", "temporal": "motion_modules"}


def target_modules(targets: list[str], blocks: str) -> str:
    """PEFT's ``target_modules`` regex for ``targets`` (e.g. to_q) in spatial and/or temporal attentions."""
    kinds = [_BLOCK_PATTERNS[b] for b in blocks.split("+")]
    names = "|".join(re.escape(t) for t in targets)
    return rf".*({'|'.join(kinds)})\.\d+\.transformer_blocks\.\d+\.attn\d\.({names})"


def add_lora(unet, *, rank: int, alpha: float, targets: list[str], blocks: str, seed: int = 0) -> list[torch.Tensor]:
    """Freeze ``unet`` and give it a trainable LoRA; returns the LoRA parameters (float32)."""
    from peft import LoraConfig

    unet.requires_grad_(False)
    config = LoraConfig(r=rank, lora_alpha=alpha, init_lora_weights="gaussian",
                        target_modules=target_modules(targets, blocks))
    torch.manual_seed(seed)  # the LoRA A matrices start from this draw
    unet.add_adapter(config)
    params = [p for n, p in unet.named_parameters() if "lora_" in n]
    if not params:
        raise ValueError(f"lora_targets {targets} matched no attention module of {blocks} blocks")
    for p in params:
        p.data = p.data.float()
        p.requires_grad_(True)
    return params


class LoraState:
    """The LoRA tensors of a PEFT-adapted UNet as a state dict, for the safetensors checkpoints of
    :mod:`t2v.training.checkpoint` (which ask a model for ``state_dict`` / ``load_state_dict``)."""

    def __init__(self, unet) -> None:
        self.unet = unet

    def state_dict(self) -> dict[str, torch.Tensor]:
        from peft.utils import get_peft_model_state_dict

        return get_peft_model_state_dict(self.unet, adapter_name=ADAPTER_NAME)

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        from peft.utils import set_peft_model_state_dict

        result = set_peft_model_state_dict(self.unet, state, adapter_name=ADAPTER_NAME)
        unexpected = getattr(result, "unexpected_keys", [])
        if unexpected:
            raise ValueError(f"checkpoint holds LoRA tensors this model lacks: {unexpected[:3]}")


def save_lora(unet, folder: str | Path) -> Path:
    """Write the LoRA as ``pytorch_lora_weights.safetensors`` in the diffusers layout, with rank and alpha
    in the metadata, through a temporary folder so a reader never finds it half written."""
    from diffusers import AnimateDiffPipeline
    from diffusers.utils import convert_state_dict_to_diffusers

    from t2v.training.checkpoint import write_folder_atomically

    layers = convert_state_dict_to_diffusers(LoraState(unet).state_dict())
    metadata = unet.peft_config[ADAPTER_NAME].to_dict()
    metadata["target_modules"] = str(metadata["target_modules"])  # a regex string stays as it is
    return write_folder_atomically(folder, lambda partial: AnimateDiffPipeline.save_lora_weights(
        partial, unet_lora_layers=layers, unet_lora_adapter_metadata=metadata))
