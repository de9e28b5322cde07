"""The tiny-shapes training script end to end on the smallest preset: every stage, resume,
warm start from an exported model, and an export that loads and generates."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from t2v.generation import generate
from t2v.models import load_pipeline, model_card
from t2v.models.architecture import TEXT_MAX_LENGTH, build_unet, load_tokenizer
from t2v.training.checkpoint import find_state
from t2v.training.tiny_shapes.config import TrainConfig
from t2v.training.tiny_shapes.data import caption_dataset
from t2v.training.tiny_shapes.direction import (
    DIRECTIONAL_MOTIONS,
    DirectionBatches,
    centred_direction_specs,
)
from t2v.training.tiny_shapes.run_folder import DIRECTION_DATA
from t2v.training.tiny_shapes.train import run
from t2v.training.tiny_shapes.unet import initial_unet
from t2v.world.captions import captions, lexicon
from t2v.world.holdout import spec_is_heldout
from t2v.world.spec import TRANSLATIONS, TRAVEL, WorldSpec

ROOT = Path(__file__).resolve().parents[1]


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
    assert model_card(root / "export")["unet_steps"] == cfg.unet_steps


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
    with pytest.raises(ValueError, match="direction_steps"):
        replace(small_config(tmp_path), direction_steps=-1)
    with pytest.raises(ValueError, match="direction_min_timestep"):
        replace(small_config(tmp_path), direction_min_timestep=1000)
    with pytest.raises(ValueError, match="direction_share"):
        replace(small_config(tmp_path), direction_share=1.5)
    with pytest.raises(ValueError, match="direction_clips"):
        replace(small_config(tmp_path), direction_clips=0)
    with pytest.raises(ValueError, match="decoder_steps"):
        replace(small_config(tmp_path), decoder_steps=-1)
    with pytest.raises(ValueError, match="decoder_lr"):
        replace(small_config(tmp_path), decoder_lr=0.0)
    with pytest.raises(ValueError, match="decoder_object_weight"):
        replace(small_config(tmp_path), decoder_object_weight=-1.0)
    with pytest.raises(ValueError, match="decoder_encoder_lr"):
        replace(small_config(tmp_path), decoder_encoder_lr=-1e-4)


def test_centred_direction_specs_centre_each_path_and_keep_the_holdout():
    specs = centred_direction_specs(60, seed=0, frames=8, size=32)
    assert {s.objects[0].motion for s in specs} == set(DIRECTIONAL_MOTIONS)
    for spec in specs:
        assert len(spec.objects) == 1 and spec.camera == "static" and not spec_is_heldout(spec)
        start = spec.objects[0]
        dx, dy = TRANSLATIONS.get(start.motion, (0.0, 0.0))
        # the path's midpoint is the frame's centre
        assert start.x + dx * TRAVEL / 2 == pytest.approx(0.5) and start.y + dy * TRAVEL / 2 == pytest.approx(0.5)
    with pytest.raises(ValueError, match="n must"):
        centred_direction_specs(0, seed=0, frames=8, size=32)


def test_direction_warm_up_trains_first_and_the_unet_stage_goes_on_from_it(trained, tmp_path, caplog):
    cfg, root = trained
    caplog.set_level("INFO")
    warm = replace(small_config(tmp_path / "dir"), vae_from=str(root / "export"), direction_steps=2,
                   direction_clips=3, unet_steps=1)
    run(warm, stages=("data", "encode", "direction"))
    warmed = load_file(str(tmp_path / "dir" / "direction_unet" / "diffusion_pytorch_model.safetensors"))
    fresh = build_unet(warm.model).state_dict()
    assert any(not torch.equal(warmed[k], fresh[k]) for k in warmed)  # it trained
    assert "direction warm-up step 2/2" in caplog.text
    # Interrupted after its checkpoint but before saving: it resumes instead of starting again.
    shutil.rmtree(tmp_path / "dir" / "direction_unet")
    run(replace(warm, direction_steps=3), stages=("direction",))
    assert "resumed the direction warm-up at step 2" in caplog.text
    # The UNet stage starts from the warmed weights (its first EMA copy is them).
    warmed = load_file(str(tmp_path / "dir" / "direction_unet" / "diffusion_pytorch_model.safetensors"))
    start = initial_unet(warm, tmp_path / "dir").state_dict()
    assert all(torch.equal(start[k], warmed[k].float()) for k in warmed)
    # Half of each UNet-stage batch may come from the warm-up's clips, so the stage keeps what it taught.
    run(replace(warm, direction_share=0.5), stages=("unet",))
    assert checkpoint_step(tmp_path / "dir") == 1
    # Those clips are encoded once and cached; a different request encodes them again.
    cache = tmp_path / "dir" / DIRECTION_DATA
    with safe_open(str(cache), "pt") as f:
        key, cached = f.metadata(), {name: f.get_tensor(name) for name in f.keys()}
    assert cached["latents"].shape[0] == warm.direction_clips
    save_file({**cached, "latents": torch.zeros_like(cached["latents"])}, str(cache), metadata=key)
    assert torch.all(DirectionBatches.build(warm, tmp_path / "dir").latents == 0)  # read, not re-encoded
    assert DirectionBatches.build(replace(warm, direction_clips=2), tmp_path / "dir").latents.shape[0] == 2
    assert load_file(str(tmp_path / "dir" / DIRECTION_DATA))["latents"].shape[0] == 2


def test_decoder_fine_tune_trains_only_the_decoder_resumes_and_is_exported(trained, tmp_path, caplog):
    from diffusers import AutoencoderKL

    cfg, root = trained
    caplog.set_level("INFO")
    tune = replace(small_config(tmp_path / "dec"), vae_from=str(root / "export"), decoder_steps=2, unet_steps=1)
    run(tune, stages=("data", "decoder"))
    base = AutoencoderKL.from_pretrained(tmp_path / "dec" / "vae").state_dict()
    tuned_vae = AutoencoderKL.from_pretrained(tmp_path / "dec" / "vae_decoder")
    tuned = tuned_vae.state_dict()
    frozen = [k for k in base if k.startswith(("encoder.", "quant_conv."))]
    assert frozen and all(torch.equal(base[k], tuned[k]) for k in frozen)  # the latent space is unchanged ...
    assert any(not torch.equal(base[k], tuned[k]) for k in base if k.startswith("decoder."))  # ... the decoder trained
    assert tuned_vae.config.scaling_factor == AutoencoderKL.load_config(tmp_path / "dec" / "vae")["scaling_factor"]
    assert "decoder step 2/2" in caplog.text
    # Interrupted after its checkpoint but before saving: it resumes instead of starting again.
    shutil.rmtree(tmp_path / "dec" / "vae_decoder")
    run(replace(tune, decoder_steps=3), stages=("decoder",))
    assert "resumed the decoder fine-tune at step 2" in caplog.text
    # The export ships the fine-tuned decoder.
    run(tune, stages=("encode", "unet", "export"), export_to=tmp_path / "export")
    shipped = load_file(str(tmp_path / "export" / "vae" / "diffusion_pytorch_model.safetensors"))
    tuned = AutoencoderKL.from_pretrained(tmp_path / "dec" / "vae_decoder").state_dict()
    assert all(torch.equal(shipped[k].float(), tuned[k]) for k in tuned)


def test_a_decoder_only_run_from_an_export_ships_its_unet_unchanged(trained, tmp_path):
    cfg, root = trained
    only = replace(small_config(tmp_path / "only"), init_from=str(root / "export"), decoder_steps=1)
    run(only, stages=("data", "decoder", "export"), export_to=tmp_path / "shipped")
    before = load_file(str(root / "export" / "unet" / "diffusion_pytorch_model.safetensors"))
    after = load_file(str(tmp_path / "shipped" / "unet" / "diffusion_pytorch_model.safetensors"))
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)
    card = json.loads((tmp_path / "shipped" / "t2v_model.json").read_text())
    assert card["unet_steps"] == cfg.unet_steps and card["unet_train_config"]["out"] == cfg.out
    assert card["train_config"]["decoder_steps"] == 1


def test_an_encoder_fine_tune_re_encodes_the_clips_and_needs_a_new_unet(trained, tmp_path):
    import numpy as np
    from diffusers import AutoencoderKL

    from t2v.training.common import encode_clips

    cfg, root = trained
    # In a run that has encoded its clips, a new encoder would leave them stale: refused up front.
    with pytest.raises(ValueError, match="fresh --out folder"):
        run(replace(cfg, decoder_steps=1, decoder_encoder_lr=1e-2), stages=("decoder",))
    assert not (root / "run" / "vae_decoder").exists()
    tune = replace(small_config(tmp_path / "enc"), init_from=str(root / "export"), decoder_steps=2,
                   decoder_encoder_lr=1e-2, unet_steps=1)
    run(tune, stages=("data", "decoder"))
    base = AutoencoderKL.from_pretrained(tmp_path / "enc" / "vae")
    tuned = AutoencoderKL.from_pretrained(tmp_path / "enc" / "vae_decoder")
    assert not torch.equal(base.encoder.conv_in.weight, tuned.encoder.conv_in.weight)  # the encoder trained
    assert tuned.config.scaling_factor != base.config.scaling_factor  # ... and its latents were measured again
    # The old UNet no longer fits the latents: exporting it is refused.
    with pytest.raises(ValueError, match="decoder_encoder_lr"):
        run(tune, stages=("export",), export_to=tmp_path / "stale")
    assert not (tmp_path / "stale").exists()
    # The clips are encoded by the tuned encoder, and a UNet trained on them exports.
    run(tune, stages=("encode", "unet", "export"), export_to=tmp_path / "export")
    clips = np.load(tmp_path / "enc" / "data" / "clips.npy")
    cached = load_file(str(tmp_path / "enc" / "data" / "encoded.safetensors"))["latents"]
    assert torch.allclose(cached, encode_clips(tuned.eval(), clips), atol=1e-5)
    assert load_pipeline(str(tmp_path / "export")).vae.config.scaling_factor == tuned.config.scaling_factor


def test_two_accelerate_processes_share_one_run(tmp_path):
    """Under ``accelerate launch`` (torchrun, a CPU gloo group here) the data, VAE and encode stages
    run once, on the main process, and the UNet stage trains on both."""
    accelerate = Path(sys.executable).with_name("accelerate")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    cmd = [str(accelerate), "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
           "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", "29518",
           "-m", "t2v.training.tiny_shapes", "--out", str(tmp_path / "run"), "--preset", "test", "--clips", "6",
           "--captions-per-clip", "2", "--vae-steps", "2", "--vae-batch", "4", "--unet-steps", "2",
           "--unet-batch", "2", "--warmup", "1", "--checkpoint-every", "1", "--log-every", "1",
           "--export", str(tmp_path / "export")]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stderr.count("VAE done") == 1  # one process trained the VAE ...
    assert proc.stderr.count("unet step 2/2") == 1  # ... and logged the UNet stage
    assert checkpoint_step(tmp_path / "run") == 2
    assert model_card(tmp_path / "export")["unet_steps"] == 2


def test_training_data_holds_no_held_out_combination(tmp_path):
    """The rendered training specs avoid every held-out pair, though a quarter of random scenes would use one."""
    from t2v.training.tiny_shapes.data import make_dataset
    from t2v.world.holdout import HELDOUT_COLOR_MOTION, HELDOUT_COLOR_SHAPE

    cfg = replace(small_config(tmp_path), clips=300)
    make_dataset(cfg, tmp_path / "data")
    specs = [WorldSpec.from_json(line) for line in (tmp_path / "data" / "specs.jsonl").read_text().splitlines()]
    assert len(specs) == 300
    objects = [o for s in specs for o in s.objects]
    assert not {(o.color, o.shape) for o in objects} & HELDOUT_COLOR_SHAPE
    assert not {(o.color, o.motion) for o in objects} & HELDOUT_COLOR_MOTION
    assert {o.color for o in objects} >= {"red", "blue", "yellow", "green", "purple", "orange"}  # the colours stay
