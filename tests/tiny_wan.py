"""Tiny random Wan 2.x components of the real classes, built offline for tests.

The text encoder is a 2-layer UMT5 whose vocabulary is set to the size of the shipped MiniLM tokenizer
(the real UMT5 tokenizer would need a download); ``max_sequence_length`` stays small. Every module is put
in ``eval()``: UMT5's default dropout would make the same seed give different outputs.
"""

from __future__ import annotations

import torch

TEXT_DIM = 32
MAX_SEQUENCE_LENGTH = 16
HEIGHT = WIDTH = 16
NUM_FRAMES = 9  # 4k+1: latent frames 0 | 1-4 | 5-8


def tiny_tokenizer():
    from t2v.models.architecture import load_tokenizer

    return load_tokenizer(MAX_SEQUENCE_LENGTH)


def tiny_text_encoder(vocab_size: int, seed: int = 0):
    from transformers import UMT5Config, UMT5EncoderModel

    torch.manual_seed(seed)
    config = UMT5Config(vocab_size=vocab_size, d_model=TEXT_DIM, d_kv=8, d_ff=37, num_layers=2, num_heads=4,
                        relative_attention_num_buckets=8)
    return UMT5EncoderModel(config).eval()


def tiny_vae(seed: int = 0):
    from diffusers import AutoencoderKLWan

    torch.manual_seed(seed)
    return AutoencoderKLWan(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                            temperal_downsample=[False, True, True]).eval()


def tiny_transformer(seed: int = 0, **overrides):
    from diffusers import WanTransformer3DModel

    torch.manual_seed(seed)
    config = dict(patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=16,
                  out_channels=16, text_dim=TEXT_DIM, freq_dim=256, ffn_dim=32, num_layers=2, cross_attn_norm=True,
                  qk_norm="rms_norm_across_heads", rope_max_seq_len=32)
    config.update(overrides)
    return WanTransformer3DModel(**config).eval()


def tiny_scheduler():
    from diffusers import FlowMatchEulerDiscreteScheduler

    return FlowMatchEulerDiscreteScheduler(shift=7.0)


def tiny_wan_components(two_experts: bool = False, seed: int = 0) -> dict:
    """The components of a 2.1 T2V pipeline, or of a 2.2 A14B-style two-expert one (``boundary_ratio`` 0.875)."""
    tokenizer = tiny_tokenizer()
    components = {"tokenizer": tokenizer, "text_encoder": tiny_text_encoder(len(tokenizer), seed),
                  "vae": tiny_vae(seed), "scheduler": tiny_scheduler(), "transformer": tiny_transformer(seed),
                  "transformer_2": None}
    if two_experts:
        components["transformer_2"] = tiny_transformer(seed + 1)
        components["boundary_ratio"] = 0.875
    return components


def tiny_wan_pipeline(pipeline_class=None, two_experts: bool = False, seed: int = 0):
    """A tiny T2V Wan pipeline of ``pipeline_class`` (diffusers' ``WanPipeline`` by default)."""
    if pipeline_class is None:
        from diffusers import WanPipeline as pipeline_class
    pipe = pipeline_class(**tiny_wan_components(two_experts, seed))
    pipe.set_progress_bar_config(disable=True)
    return pipe


def tiny_call_kwargs(seed: int = 0, **overrides) -> dict:
    kwargs = dict(height=HEIGHT, width=WIDTH, num_frames=NUM_FRAMES, num_inference_steps=2, guidance_scale=5.0,
                  max_sequence_length=MAX_SEQUENCE_LENGTH, generator=torch.Generator().manual_seed(seed))
    kwargs.update(overrides)
    return kwargs
