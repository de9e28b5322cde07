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
    """A tiny T2V Wan pipeline of ``pipeline_class`` (diffusers' ``WanPipeline`` by default); t2v's Wan
    pipelines get native settings of the tiny size (16×16, 9 frames) and short prompts."""
    from t2v.pipelines import T2VWanPipeline

    if pipeline_class is None:
        from diffusers import WanPipeline as pipeline_class
    components = tiny_wan_components(two_experts, seed)
    if issubclass(pipeline_class, T2VWanPipeline):
        components.update(native_num_frames=NUM_FRAMES, native_height=HEIGHT, native_width=WIDTH,
                          native_max_sequence_length=MAX_SEQUENCE_LENGTH)
    pipe = pipeline_class(**components)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def tiny_call_kwargs(seed: int = 0, **overrides) -> dict:
    kwargs = dict(height=HEIGHT, width=WIDTH, num_frames=NUM_FRAMES, num_inference_steps=2, guidance_scale=5.0,
                  max_sequence_length=MAX_SEQUENCE_LENGTH, generator=torch.Generator().manual_seed(seed))
    kwargs.update(overrides)
    return kwargs


# -- the other Wan layouts: image-to-video (2.1 CLIP / FLF2V, 2.2 A14B), TI2V-5B, VACE --

CLIP_DIM = 8
CLIP_IMAGE_SIZE = 16
CLIP_PATCH = 4
CLIP_TOKENS = (CLIP_IMAGE_SIZE // CLIP_PATCH) ** 2 + 1  # patches plus the class token
TI2V_SIZE = 32  # the 2.2 VAE's 16x spatial factor times the 2x2 patch


def tiny_image_encoder(seed: int = 0):
    """A CLIP vision tower and its processor, as Wan 2.1 I2V ships them (``CLIPVisionModel``; the pipeline
    reads the penultimate hidden states, ``CLIP_TOKENS`` tokens of ``CLIP_DIM``)."""
    import transformers
    from transformers import CLIPVisionConfig, CLIPVisionModel

    torch.manual_seed(seed)
    encoder = CLIPVisionModel(CLIPVisionConfig(hidden_size=CLIP_DIM, intermediate_size=16, num_hidden_layers=2,
                                               num_attention_heads=2, image_size=CLIP_IMAGE_SIZE,
                                               patch_size=CLIP_PATCH)).eval()
    # transformers 5 names the PIL processor CLIPImageProcessorPil; CLIPImageProcessor needs torchvision there
    processor_class = getattr(transformers, "CLIPImageProcessorPil", transformers.CLIPImageProcessor)
    return encoder, processor_class(size={"shortest_edge": CLIP_IMAGE_SIZE},
                                    crop_size={"height": CLIP_IMAGE_SIZE, "width": CLIP_IMAGE_SIZE})


def tiny_i2v_components(first_last: bool = False, two_experts: bool = False, seed: int = 0) -> dict:
    """A ``WanImageToVideoPipeline``'s components.

    One transformer: Wan 2.1 I2V, with a CLIP image encoder (``image_dim``, ``added_kv_proj_dim``), and with
    ``first_last`` the FLF2V variant whose image embedding has positions for two images' tokens. Two experts:
    Wan 2.2 I2V A14B, which conditions on the image latents only (no CLIP encoder).
    """
    tokenizer = tiny_tokenizer()
    latent_channels = 16
    in_channels = 2 * latent_channels + 4  # noise, the image's latents, the 4-channel frame mask
    components = {"tokenizer": tokenizer, "text_encoder": tiny_text_encoder(len(tokenizer), seed),
                  "vae": tiny_vae(seed), "scheduler": tiny_scheduler(), "image_encoder": None,
                  "image_processor": None, "transformer_2": None}
    if two_experts:
        components["transformer"] = tiny_transformer(seed, in_channels=in_channels)
        components["transformer_2"] = tiny_transformer(seed + 1, in_channels=in_channels)
        components["boundary_ratio"] = 0.9
        return components
    image = {"image_dim": CLIP_DIM, "added_kv_proj_dim": 24}  # 24: the transformer's width (2 heads x 12)
    if first_last:
        image["pos_embed_seq_len"] = 2 * CLIP_TOKENS
    components["transformer"] = tiny_transformer(seed, in_channels=in_channels, **image)
    components["image_encoder"], components["image_processor"] = tiny_image_encoder(seed)
    return components


def tiny_vae_22(seed: int = 0):
    """The Wan 2.2 VAE's layout (TI2V-5B): 48 latent channels, residual blocks, a 2x2 pixel patch, 16x spatial."""
    from diffusers import AutoencoderKLWan

    torch.manual_seed(seed)
    return AutoencoderKLWan(base_dim=3, z_dim=48, in_channels=12, out_channels=12, is_residual=True, patch_size=2,
                            latents_mean=[0.0] * 48, latents_std=[1.0] * 48, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                            scale_factor_spatial=16, scale_factor_temporal=4,
                            temperal_downsample=[False, True, True]).eval()


def tiny_ti2v_components(seed: int = 0) -> dict:
    """A Wan 2.2 TI2V-5B-style ``WanPipeline``: the 2.2 VAE and ``expand_timesteps`` (per-token timesteps)."""
    tokenizer = tiny_tokenizer()
    return {"tokenizer": tokenizer, "text_encoder": tiny_text_encoder(len(tokenizer), seed), "vae": tiny_vae_22(seed),
            "scheduler": tiny_scheduler(), "transformer": tiny_transformer(seed, in_channels=48, out_channels=48),
            "transformer_2": None, "boundary_ratio": None, "expand_timesteps": True}


def tiny_vace_transformer(seed: int = 0):
    from diffusers import WanVACETransformer3DModel

    torch.manual_seed(seed)
    return WanVACETransformer3DModel(patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12,
                                     in_channels=16, out_channels=16, text_dim=TEXT_DIM, freq_dim=256, ffn_dim=32,
                                     num_layers=3, cross_attn_norm=True, qk_norm="rms_norm_across_heads",
                                     rope_max_seq_len=32, vace_layers=[0, 2], vace_in_channels=96).eval()


def tiny_vace_components(seed: int = 0) -> dict:
    """A ``WanVACEPipeline``'s components: VACE blocks after layers 0 and 2 read the control video (96 channels:
    the video's and the mask's latents)."""
    tokenizer = tiny_tokenizer()
    return {"tokenizer": tokenizer, "text_encoder": tiny_text_encoder(len(tokenizer), seed), "vae": tiny_vae(seed),
            "scheduler": tiny_scheduler(), "transformer": tiny_vace_transformer(seed), "transformer_2": None}
