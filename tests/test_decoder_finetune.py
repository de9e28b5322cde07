"""The decoder fine-tune's pieces: object-weighted loss, reconstruction, and that it lowers the error."""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np
import pytest
import torch

from t2v.models.architecture import build_vae
from t2v.training.common import reconstruct
from t2v.training.tiny_shapes.config import TrainConfig
from t2v.training.tiny_shapes.decoder import dissolves, finetune_decoder, object_weights
from t2v.world.render import render
from t2v.world.sampling import sample_spec
from t2v.world.spec import BACKGROUNDS


def test_object_pixels_and_their_rim_weigh_more_on_every_background():
    frames = np.zeros((len(BACKGROUNDS), 16, 16, 3), dtype=np.float32)
    for i, name in enumerate(BACKGROUNDS):
        frames[i] = BACKGROUNDS[name]
    frames[:, 6:9, 6:9] = (220, 40, 40)  # a red square
    weights = object_weights(torch.from_numpy(frames), object_weight=9.0)
    assert weights.shape == (len(BACKGROUNDS), 1, 16, 16)
    expected = torch.ones(16, 16)
    expected[5:10, 5:10] = 10.0  # the square and a one-pixel rim
    assert all(torch.equal(w[0], expected) for w in weights)


def test_a_checkered_background_is_not_an_object():
    spec = sample_spec(random.Random(3), frames=2, size=32, two_objects=0.0)
    corner = replace(spec.objects[0], x=0.15, y=0.15, size="small", motion="still")
    spec = replace(spec, background="checkered", camera="static", objects=(corner,))
    weights = object_weights(torch.from_numpy(render(spec)).float(), object_weight=5.0)
    assert torch.all(weights[..., 12:, :] == 1.0) and torch.all(weights[..., :, 12:] == 1.0)  # all but the corner
    assert weights[..., :12, :12].max() == 6.0  # the object there


def test_reconstruct_round_trips_uint8_frames():
    cfg = TrainConfig(preset="test")
    frames = render(sample_spec(random.Random(0), frames=cfg.model.frames, size=cfg.model.size, two_objects=0.0))
    out = reconstruct(build_vae(cfg.model).eval(), frames)
    assert out.shape == frames.shape and out.dtype == np.uint8


def test_fine_tune_lowers_the_object_weighted_error_and_keeps_the_encoder(tmp_path):
    torch.manual_seed(0)
    cfg = TrainConfig(out=str(tmp_path), preset="test", vae_batch=8, decoder_steps=40, decoder_lr=5e-3, warmup=1,
                      checkpoint_every=1000, log_every=1000, decoder_object_weight=10.0)
    rng = random.Random(1)
    clips = np.stack([render(sample_spec(rng, frames=cfg.model.frames, size=cfg.model.size, two_objects=0.0))
                      for _ in range(6)])
    vae = build_vae(cfg.model).eval()
    vae.save_pretrained(tmp_path / "vae")
    frames = clips.reshape(-1, *clips.shape[2:])

    def weighted_error(model) -> float:
        error = (reconstruct(model, frames).astype(np.float32) - frames) ** 2
        weights = object_weights(torch.from_numpy(frames).float(), 10.0)[:, 0].numpy()
        return float((error.mean(-1) * weights).sum() / weights.sum())

    from diffusers import AutoencoderKL

    before = weighted_error(vae)
    tuned = AutoencoderKL.from_pretrained(finetune_decoder(cfg, tmp_path, clips)).eval()
    assert weighted_error(tuned) < 0.8 * before
    assert torch.equal(tuned.encoder.conv_in.weight, vae.encoder.conv_in.weight)
    with pytest.raises(ValueError, match="decoder_object_weight"):
        replace(cfg, decoder_object_weight=float("nan"))


def test_dissolves_mix_each_pair_at_one_weight_spread_over_the_range():
    first, second = np.zeros((300, 4, 4, 3), np.uint8), np.full((300, 4, 4, 3), 200, np.uint8)
    mixed = dissolves(first, second, np.random.default_rng(0))
    assert mixed.dtype == np.uint8 and mixed.shape == first.shape
    assert all(len(np.unique(frame)) == 1 for frame in mixed)  # one weight per frame
    weights = mixed[:, 0, 0, 0] / 200.0
    assert weights.min() < 0.05 and weights.max() > 0.95 and abs(weights.mean() - 0.5) < 0.06



def test_the_blend_share_is_a_share():
    with pytest.raises(ValueError, match="decoder_blend_share"):
        TrainConfig(decoder_blend_share=1.5)
