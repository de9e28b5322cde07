"""The tiny-shapes training script end to end on the smallest preset: every stage, resume,
warm start from an exported model, and an export that loads and generates."""

from __future__ import annotations

import json
import random
import re
from dataclasses import replace

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file

from t2v.generation import generate
from t2v.models import load_pipeline
from t2v.world.architecture import TEXT_MAX_LENGTH, load_tokenizer
from t2v.world.captions import captions, lexicon
from t2v.world.spec import WorldSpec
from t2v.world.train import TrainConfig, caption_dataset, run
from t2v.world.training_state import find_state


def small_config(out) -> TrainConfig:
    return TrainConfig(out=str(out), preset="test", clips=6, captions_per_clip=2, two_objects=0.5,
                       vae_steps=2, vae_batch=4, unet_steps=2, unet_batch=2, warmup=1,
                       checkpoint_every=1, log_every=1, threads=1)


def checkpoint_step(run_dir) -> int:
    return json.loads((find_state(run_dir / "unet_checkpoint") / "state.json").read_text())["meta"]["step"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One full run (all stages) of the test preset, exported."""
    root = tmp_path_factory.mktemp("train")
    cfg = small_config(root / "run")
    run(cfg, export_to=root / "export")
    return cfg, root


def test_every_stage_runs_and_the_export_loads_as_a_pipeline(trained):
    cfg, root = trained
    assert checkpoint_step(root / "run") == cfg.unet_steps
    with safe_open(str(root / "export" / "unet" / "diffusion_pytorch_model.safetensors"), "pt") as f:
        stored = {f.get_tensor(k).dtype for k in f.keys()}
    assert stored == {torch.float16}  # shipped at half the size ...
    pipe = load_pipeline(str(root / "export"))
    assert {p.dtype for p in pipe.unet.parameters()} == {torch.float32}  # ... computed in float32
    frames, _ = generate(pipe, "a big red circle moving right on a black background", num_inference_steps=2)
    assert frames.shape == (cfg.model.frames, cfg.model.size, cfg.model.size, 3)
    assert pipe.t2v_card["unet_steps"] == cfg.unet_steps


def test_a_longer_run_resumes_from_the_last_checkpoint(trained, caplog):
    cfg, root = trained
    caplog.set_level("INFO")
    run(replace(cfg, unet_steps=cfg.unet_steps + 1), stages=("unet",))
    assert f"resumed UNet at step {cfg.unet_steps}" in caplog.text
    assert checkpoint_step(root / "run") == cfg.unet_steps + 1


def test_warm_start_takes_the_exported_model_and_its_vae(trained, tmp_path, caplog):
    _, root = trained
    caplog.set_level("INFO")
    warm = replace(small_config(tmp_path / "warm"), init_from=str(root / "export"), unet_steps=1)
    run(warm, stages=("data", "encode", "unet", "export"), export_to=tmp_path / "export")
    assert "warm-started the UNet" in caplog.text
    exported = json.loads((tmp_path / "export" / "unet" / "config.json").read_text())
    original = json.loads((root / "export" / "unet" / "config.json").read_text())
    assert exported["block_out_channels"] == original["block_out_channels"]
    reused = load_file(str(tmp_path / "warm" / "vae" / "diffusion_pytorch_model.safetensors"))
    trained_vae = load_file(str(root / "run" / "vae" / "diffusion_pytorch_model.safetensors"))
    assert reused.keys() == trained_vae.keys()
    assert all(torch.equal(reused[k], trained_vae[k]) for k in reused)


def test_vae_from_reuses_the_exported_vae_under_a_fresh_unet(trained, tmp_path, caplog):
    _, root = trained
    caplog.set_level("INFO")
    fresh = replace(small_config(tmp_path / "fresh"), vae_from=str(root / "export"), unet_steps=1)
    run(fresh, stages=("data", "encode", "unet"))
    assert "warm-started the UNet" not in caplog.text
    assert not (tmp_path / "fresh" / "vae_checkpoint").exists()  # no VAE was trained
    reused = load_file(str(tmp_path / "fresh" / "vae" / "diffusion_pytorch_model.safetensors"))
    trained_vae = load_file(str(root / "run" / "vae" / "diffusion_pytorch_model.safetensors"))
    assert all(torch.equal(reused[k], trained_vae[k]) for k in trained_vae)


def test_attribute_dropout_leaves_an_attribute_unsaid_and_off_changes_nothing(trained):
    cfg, root = trained
    assert cfg.attribute_dropout == 0.0
    words = lexicon("train")
    plain = caption_dataset(cfg, root / "run" / "data")
    # Off, the dataset is the plain phrasings of each scene from one shared rng, as before the option.
    tokenizer, rng = load_tokenizer(TEXT_MAX_LENGTH), random.Random(cfg.seed + 1)
    specs = [WorldSpec.from_json(line) for line in (root / "run" / "data" / "specs.jsonl").read_text().splitlines()]

    def fits(text: str) -> bool:
        return len(tokenizer(text).input_ids) <= TEXT_MAX_LENGTH

    for spec, per_clip in zip(specs, plain, strict=True):
        expected = captions(spec, rng, n=cfg.captions_per_clip, keep=fits)
        assert per_clip == [expected[i % len(expected)] for i in range(cfg.captions_per_clip)]
    dropped = caption_dataset(replace(cfg, attribute_dropout=1.0), root / "run" / "data")
    assert len(dropped) == len(plain) and all(len(c) == cfg.captions_per_clip for c in dropped)
    for per_clip in dropped:
        for text in per_clip:
            said = {words[w][0] for w in re.findall(r"[a-z]+", text) if w in words}
            assert not {"color", "shape", "size"} <= said, text


def test_bad_config_names_the_argument(tmp_path):
    with pytest.raises(ValueError, match="preset"):
        replace(small_config(tmp_path), preset="huge")
    with pytest.raises(ValueError, match="caption_dropout"):
        replace(small_config(tmp_path), caption_dropout=1.5)
    with pytest.raises(ValueError, match="attribute_dropout"):
        replace(small_config(tmp_path), attribute_dropout=-0.1)
