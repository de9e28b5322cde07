"""LoRA through PEFT on a UNetMotionModel's attention (AnimateDiff) or on every expert of a Wan transformer,
and its export in the diffusers format that a stock pipeline's ``load_lora_weights`` reads (with the adapter's
rank and alpha in the file's metadata).

Wan 2.2 A14B has two experts (``transformer`` for the high-noise steps, ``transformer_2`` for the low-noise
ones), and diffusers' ``WanLoraLoaderMixin`` loads one file into one of them per call: the file's keys are
``transformer.…`` either way, and ``load_into_transformer_2=True`` sends them to the second expert. So a
two-expert LoRA is two files in one folder, ``pytorch_lora_weights.safetensors`` (the default file
``load_lora_weights(folder)`` picks) and ``pytorch_lora_weights_transformer_2.safetensors`` (loaded with that
``weight_name`` and ``load_into_transformer_2=True``); a README in the folder says so.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch

from t2v.models.wan import SECOND_EXPERT_LORA

from .config import UNET_LORA_BLOCKS, wan_lora_parts

ADAPTER_NAME = "default"
_BLOCK_PATTERNS = {"spatial": "attentions", "temporal": "motion_modules"}
WAN_EXPERTS = ("transformer", "transformer_2")
WAN_LORA_FILES = {"transformer": "pytorch_lora_weights.safetensors", "transformer_2": SECOND_EXPERT_LORA}
WAN_CHECKPOINT_NAMES = {"transformer": "lora", "transformer_2": "lora_2"}
_WAN_ATTENTIONS = {"self": "attn1", "cross": "attn2"}
_WAN_FFN = r"ffn\.net\.(0\.proj|2)"  # the feed-forward's two linears


def target_modules(targets: list[str], blocks: str) -> str:
    """PEFT's ``target_modules`` regex for ``targets`` (e.g. to_q) in spatial and/or temporal attentions."""
    if blocks not in UNET_LORA_BLOCKS:
        raise ValueError(f"lora_blocks must be one of {', '.join(UNET_LORA_BLOCKS)} on AnimateDiff, got {blocks!r}")
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


def wan_target_modules(targets: list[str], blocks: str) -> str:
    """PEFT's ``target_modules`` regex on a ``WanTransformer3DModel``: ``targets`` (e.g. to_q) in the self-
    (``attn1``) and/or cross-attention (``attn2``) of every block, and/or the feed-forward's linears."""
    parts = wan_lora_parts(blocks)
    if parts is None:
        raise ValueError(f"lora_blocks must join self, cross and ffn with '+' on Wan (spatial+temporal means "
                         f"self+cross: Wan's attention is joint spatio-temporal), got {blocks!r}")
    alternatives = []
    attentions = [_WAN_ATTENTIONS[p] for p in parts if p in _WAN_ATTENTIONS]
    if attentions:
        names = "|".join(re.escape(t) for t in targets)
        alternatives.append(rf"blocks\.\d+\.({'|'.join(attentions)})\.({names})")
    if "ffn" in parts:
        alternatives.append(rf"blocks\.\d+\.{_WAN_FFN}")
    return "|".join(f"(?:{a})" for a in alternatives)


def wan_experts(pipe) -> dict[str, torch.nn.Module]:
    """The transformers of a Wan pipeline by component name: one on 2.1 and TI2V-5B, two on 2.2 A14B."""
    experts = {name: getattr(pipe, name, None) for name in WAN_EXPERTS}
    return {name: model for name, model in experts.items() if model is not None}


def add_wan_lora(pipe, *, rank: int, alpha: float, targets: list[str], blocks: str, seed: int = 0
                 ) -> list[torch.Tensor]:
    """Freeze every expert of a Wan pipeline and give each the same LoRA layout (its own A draw: seed, seed+1);
    returns all LoRA parameters (float32). Both experts train: a step whose denoising straddles the expert
    boundary updates both."""
    from peft import LoraConfig

    regex = wan_target_modules(targets, blocks)
    params: list[torch.Tensor] = []
    for index, (name, model) in enumerate(wan_experts(pipe).items()):
        model.requires_grad_(False)
        torch.manual_seed(seed + index)
        model.add_adapter(LoraConfig(r=rank, lora_alpha=alpha, init_lora_weights="gaussian", target_modules=regex))
        found = [p for n, p in model.named_parameters() if "lora_" in n]
        if not found:
            raise ValueError(f"lora_targets {targets} matched no layer of {blocks} in the Wan {name}")
        for p in found:
            p.data = p.data.float()
            p.requires_grad_(True)
        params += found
    return params


def wan_lora_states(pipe) -> dict[str, LoraState]:
    """The experts' LoRA tensors for :func:`t2v.training.checkpoint.save_state` (``lora``, ``lora_2``)."""
    return {WAN_CHECKPOINT_NAMES[name]: LoraState(model) for name, model in wan_experts(pipe).items()}


def _wan_readme(experts: list[str]) -> str:
    lines = ["# Wan reward LoRA (t2v)", "", "Load it into a stock diffusers `WanPipeline`:", "", "```python"]
    if "transformer" in experts:
        lines.append('pipe.load_lora_weights(folder, adapter_name="reward")')
    if "transformer_2" in experts:
        lines += [f'pipe.load_lora_weights(folder, weight_name="{SECOND_EXPERT_LORA}",',
                  '                       adapter_name="reward", load_into_transformer_2=True)']
    lines += ["```", ""]
    if "transformer_2" in experts:
        lines += ["Two experts (Wan 2.2 A14B): `pytorch_lora_weights.safetensors` is the high-noise expert's "
                  "(`transformer`), `pytorch_lora_weights_transformer_2.safetensors` the low-noise expert's "
                  "(`transformer_2`). Both files key their tensors `transformer.…`: diffusers' "
                  "`WanLoraLoaderMixin` loads one file per call, into `transformer_2` when "
                  "`load_into_transformer_2=True`. Loading only the first file adapts only the high-noise expert.",
                  ""]
    lines += ["Rank, alpha and the target modules are in each file's `lora_adapter_metadata`.", ""]
    return "\n".join(lines)


def save_wan_lora(pipe, folder: str | Path) -> Path:
    """Write each expert's LoRA (PEFT ``lora_A``/``lora_B`` keys under ``transformer.``, rank/alpha/targets in
    the metadata) through diffusers' ``WanPipeline.save_lora_weights``, plus a README on loading them, through
    a temporary folder so a reader never finds it half written."""
    from diffusers import WanPipeline

    from t2v.training.checkpoint import write_folder_atomically

    experts = wan_experts(pipe)

    def write(partial: Path) -> None:
        for name, model in experts.items():
            metadata = model.peft_config[ADAPTER_NAME].to_dict()
            metadata["target_modules"] = str(metadata["target_modules"])  # a regex string stays as it is
            WanPipeline.save_lora_weights(partial, transformer_lora_layers=LoraState(model).state_dict(),
                                          transformer_lora_adapter_metadata=metadata,
                                          weight_name=WAN_LORA_FILES[name])
        (partial / "README.md").write_text(_wan_readme(list(experts)))

    return write_folder_atomically(folder, write)

