"""Tiny random models of the real architectures, built offline for tests."""

from __future__ import annotations

from pathlib import Path

import torch


def build_tiny_shapes_folder(target: Path, seed: int = 0) -> Path:
    """An exported tiny-shapes-format model with random weights (the 'test' preset)."""
    from t2v.models import save_tiny_shapes_format
    from t2v.models.architecture import PRESETS, TEXT_MAX_LENGTH, build_sample_scheduler, build_unet, build_vae

    preset = PRESETS["test"]
    torch.manual_seed(seed)
    card = {"name": "test", "size": preset.size, "frames": preset.frames, "fps": 8, "text_max_length": TEXT_MAX_LENGTH}
    return save_tiny_shapes_format(target, unet=build_unet(preset), vae=build_vae(preset),
                                   scheduler=build_sample_scheduler(preset), card=card)


def build_sd_base_and_adapter(root: Path, seed: int = 0) -> tuple[Path, Path]:
    """A tiny Stable-Diffusion-style image base (UNet2D, VAE, BERT text encoder) and a motion adapter,
    saved the way they are published, so loading code runs its real from_pretrained path."""
    from diffusers import AutoencoderKL, DDIMScheduler, MotionAdapter, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import BertConfig, BertModel

    from t2v.models.architecture import load_tokenizer

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        sample_size=8, in_channels=4, out_channels=4, block_out_channels=(16, 32), layers_per_block=1,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=32, attention_head_dim=2, norm_num_groups=8,
    )
    vae = AutoencoderKL(block_out_channels=(8, 16), down_block_types=("DownEncoderBlock2D",) * 2,
                        up_block_types=("UpDecoderBlock2D",) * 2, latent_channels=4, norm_num_groups=8, sample_size=16)
    text_encoder = BertModel(BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                                        intermediate_size=37, vocab_size=30522), add_pooling_layer=False)
    base = StableDiffusionPipeline(vae=vae, text_encoder=text_encoder, tokenizer=load_tokenizer(16), unet=unet,
                                   scheduler=DDIMScheduler(), safety_checker=None, feature_extractor=None,
                                   requires_safety_checker=False)
    base.save_pretrained(root / "base")
    adapter = MotionAdapter(block_out_channels=(16, 32), motion_layers_per_block=1, motion_num_attention_heads=2,
                            motion_norm_num_groups=8, motion_max_seq_length=16)
    adapter.save_pretrained(root / "adapter")
    return root / "base", root / "adapter"
