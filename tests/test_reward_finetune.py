"""Reward fine-tuning: its config, the LoRA a stock diffusers pipeline loads, a run, resume after kill -9,
two accelerate processes, data videos, and the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from t2v.rewards.config import FinetuneConfig, config_from_args, config_parser
from t2v.rewards.train import LOG_FILE, LORA_DIR, PLOT_FILE, train

ROOT = Path(__file__).resolve().parents[1]
PROMPTS = ["a big red circle moving right on a black background", "a small blue square on a gray background"]


def quick_config(model: Path, out: Path, **overrides) -> FinetuneConfig:
    values = dict(model=str(model), output_dir=str(out), num_inference_steps=4, noise_fraction=0.5, steps=2,
                  batch_size=1, num_prompts=8, num_validation_prompts=2, validation_every=2, checkpoint_every=1,
                  log_every=1, validation_judge="", learning_rate=1e-3, lora_alpha=8.0, warmup_steps=1)
    values.update(overrides)
    return FinetuneConfig(**values)


def brightness_judge(frames: np.ndarray, prompt: str) -> float:
    """A judge handed in by the caller (the trainer never builds one): mean brightness."""
    return float(frames.mean() / 255.0)


@pytest.mark.parametrize("field,value,match", [
    ("steps", 0, "steps must be"), ("noise_fraction", 1.5, "noise_fraction"), ("grad_steps", 13, "grad_steps"),
    ("noise_fraction", 0.01, "at least one denoising step"),
    ("video_source", "web", "video_source"), ("lora_blocks", "all", "lora_blocks"),
    ("mixed_precision", "fp8", "mixed_precision"), ("learning_rate", 0.0, "learning_rate"),
    ("objective", "x1", "objective"), ("video_reward_weight", -1.0, "video_reward_weight")])
def test_bad_config_values_name_the_field(field, value, match):
    with pytest.raises(ValueError, match=match):
        FinetuneConfig(**{field: value})


def test_yaml_config_with_command_line_overrides(tmp_path):
    (tmp_path / "c.yaml").write_text("steps: 7\nlearning_rate: 3.0e-4\nlora_targets: [to_q, to_v]\n")
    args = config_parser().parse_args(["--config", str(tmp_path / "c.yaml"), "--steps", "9", "--lora-rank", "8"])
    cfg = config_from_args(args)
    assert (cfg.steps, cfg.learning_rate, cfg.lora_rank, cfg.lora_targets) == (9, 3e-4, 8, ["to_q", "to_v"])
    (tmp_path / "bad.yaml").write_text("stepz: 7\n")
    with pytest.raises(ValueError, match="unknown fields"):
        config_from_args(config_parser().parse_args(["--config", str(tmp_path / "bad.yaml")]))
    shipped_file = str(ROOT / "configs/tiny_shapes_alignment.yaml")
    shipped = config_from_args(config_parser().parse_args(["--config", shipped_file]))
    assert (shipped.reward, shipped.video_reward, shipped.objective) == ("shapes-alignment", "shapes-motion", "x0")
    assert config_from_args(config_parser().parse_args(["--config", shipped_file, "--video_reward", ""])).video_reward \
        is None
    with pytest.raises(ValueError, match="video_reward must be one of"):
        config_from_args(config_parser().parse_args(["--config", shipped_file, "--video_reward", "shapes-motoin"]))


@pytest.fixture(scope="module")
def trained(tiny_model_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("finetune") / "run"
    lora = train(quick_config(tiny_model_dir, out), judge=brightness_judge)
    return tiny_model_dir, out, lora


def test_a_run_writes_a_lora_a_log_with_validation_and_a_plot(trained):
    _, out, lora = trained
    records = [json.loads(line) for line in (out / LOG_FILE).read_text().splitlines()]
    assert [r["step"] for r in records] == [0, 1, 2]  # step 0: the base model's validation
    assert all(np.isfinite(r["reward"]) for r in records[1:])
    assert "validation_judge" in records[-1] and "validation_reward" in records[-1]
    assert (out / PLOT_FILE).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    weights = load_file(str(lora / "pytorch_lora_weights.safetensors"))
    ups = [v for k, v in weights.items() if "lora.up" in k]
    assert ups and any(v.abs().sum() > 0 for v in ups)  # B starts at zero: training moved it


def stock_pipeline(folder: Path):
    """tiny-shapes' components loaded with stock diffusers classes only."""
    from diffusers import AnimateDiffPipeline, AutoencoderKL, DDIMScheduler, UNetMotionModel

    from t2v.models.architecture import load_text_encoder, load_tokenizer

    return AnimateDiffPipeline(vae=AutoencoderKL.from_pretrained(folder / "vae"), text_encoder=load_text_encoder(),
                               tokenizer=load_tokenizer(32), unet=UNetMotionModel.from_pretrained(folder / "unet"),
                               motion_adapter=None, scheduler=DDIMScheduler.from_pretrained(folder / "scheduler"))


def test_stock_diffusers_loads_the_lora_with_its_alpha(trained):
    """``load_lora_weights`` gives the UNet W + (alpha / rank)·up·down on every adapted layer (alpha 8, rank 4),
    checked against the merge done by hand from the saved tensors."""
    from diffusers import UNetMotionModel

    model, _, lora = trained
    pipe = stock_pipeline(model)
    pipe.load_lora_weights(str(lora))
    by_hand = UNetMotionModel.from_pretrained(model / "unet")
    saved = load_file(str(lora / "pytorch_lora_weights.safetensors"))
    merged = 0
    for name, module in by_hand.named_modules():
        down = saved.get(f"unet.{name}.lora.down.weight")
        if down is not None:
            up = saved[f"unet.{name}.lora.up.weight"]
            module.weight.data += (8.0 / 4) * up @ down
            merged += 1
    assert merged > 20
    torch.manual_seed(0)
    sample, text = torch.randn(1, 4, 4, 8, 8), torch.randn(4, 32, 384)
    with torch.no_grad():
        expected = by_hand(sample, 500, encoder_hidden_states=text).sample
        got = pipe.unet(sample, 500, encoder_hidden_states=text).sample
        plain = UNetMotionModel.from_pretrained(model / "unet")(sample, 500, encoder_hidden_states=text).sample
    assert torch.allclose(got, expected, atol=1e-5)
    assert not torch.allclose(got, plain, atol=1e-4)


def test_generate_cli_uses_the_lora(trained, tmp_path):
    from t2v.cli import main
    from t2v.generation import generate
    from t2v.models import load_pipeline

    model, _, lora = trained
    assert main(["generate", PROMPTS[0], "--model", str(model), "--lora", str(lora), "--steps", "3",
                 "-o", str(tmp_path / "a.gif")]) == 0
    with_lora, _ = generate(load_pipeline(str(model), lora=str(lora)), PROMPTS[0], num_inference_steps=3)
    without, _ = generate(load_pipeline(str(model)), PROMPTS[0], num_inference_steps=3)
    assert (tmp_path / "a.gif").stat().st_size > 0
    assert np.abs(with_lora.astype(int) - without.astype(int)).max() > 0


def run_trainer(args: list[str], out: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "t2v.rewards.train", *args, "--output_dir", str(out)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_a_run_killed_mid_training_resumes_to_the_same_lora(tiny_model_dir, tmp_path):
    """kill -9 after the step-2 checkpoint, start again: the same LoRA as a run never stopped."""
    args = ["--model", str(tiny_model_dir), "--num_inference_steps", "4", "--noise_fraction", "0.5", "--steps", "4",
            "--batch_size", "1", "--num_prompts", "8", "--num_validation_prompts", "1", "--validation_every", "4",
            "--checkpoint_every", "2", "--validation_judge", "", "--learning_rate", "1e-3", "--warmup_steps", "1"]
    straight = run_trainer(args, tmp_path / "straight")
    assert straight.wait(timeout=300) == 0, straight.stdout.read()
    killed = run_trainer(args, tmp_path / "killed")
    state = tmp_path / "killed" / "checkpoint" / "state.json"
    deadline = time.time() + 300
    while not (state.exists() and json.loads(state.read_text())["meta"]["step"] >= 2):
        assert killed.poll() is None and time.time() < deadline, "the run ended before it could be killed"
        time.sleep(0.05)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    resumed = run_trainer(args, tmp_path / "killed")
    output = resumed.communicate(timeout=300)[0]
    assert resumed.returncode == 0, output
    assert "resumed at step 2" in output
    a = load_file(str(tmp_path / "straight" / LORA_DIR / "pytorch_lora_weights.safetensors"))
    b = load_file(str(tmp_path / "killed" / LORA_DIR / "pytorch_lora_weights.safetensors"))
    assert a.keys() == b.keys()
    assert max((a[k] - b[k]).abs().max().item() for k in a) < 1e-5
    steps = [json.loads(line)["step"] for line in (tmp_path / "killed" / LOG_FILE).read_text().splitlines()]
    assert steps == [0, 1, 2, 3, 4]


def test_two_accelerate_processes_train_one_lora(tiny_model_dir, tmp_path):
    accelerate = Path(sys.executable).with_name("accelerate")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    cmd = [str(accelerate), "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
           "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", "29521",
           "-m", "t2v.rewards.train", "--model", str(tiny_model_dir), "--output_dir", str(tmp_path / "run"),
           "--num_inference_steps", "4", "--noise_fraction", "0.5", "--steps", "2", "--batch_size", "1",
           "--num_prompts", "8", "--num_validation_prompts", "1", "--validation_every", "2", "--validation_judge", ""]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "run" / LORA_DIR / "pytorch_lora_weights.safetensors").is_file()
    records = [json.loads(line) for line in (tmp_path / "run" / LOG_FILE).read_text().splitlines()]
    assert [r["step"] for r in records] == [0, 1, 2]  # one log, written by the main process


def test_data_videos_are_edited_instead_of_samples(tiny_model_dir, tmp_path):
    from t2v.world.parser import parse_caption
    from t2v.world.render import render

    clips = np.stack([render(parse_caption(p, frames=4, size=32)) for p in PROMPTS])
    save_file({"clips": torch.from_numpy(clips)}, str(tmp_path / "data.safetensors"),
              metadata={"prompts": json.dumps(PROMPTS)})
    cfg = quick_config(tiny_model_dir, tmp_path / "run", video_source="data",
                       data_file=str(tmp_path / "data.safetensors"), steps=1, validation_every=1)
    assert (train(cfg, judge=brightness_judge) / "pytorch_lora_weights.safetensors").is_file()
    bad = tmp_path / "bad.safetensors"
    save_file({"clips": torch.zeros(2, 4, 32, 32, 3)}, str(bad), metadata={"prompts": json.dumps(PROMPTS)})
    with pytest.raises(ValueError, match="data_file"):
        train(quick_config(tiny_model_dir, tmp_path / "run2", video_source="data", data_file=str(bad)))
    with pytest.raises(ValueError, match="does not exist"):
        train(quick_config(tiny_model_dir, tmp_path / "run3", video_source="data",
                           data_file=str(tmp_path / "missing.safetensors")))


def test_a_reward_without_gradients_is_refused(tiny_model_dir, tmp_path):
    with pytest.raises(ValueError, match="not differentiable"):
        train(quick_config(tiny_model_dir, tmp_path / "run", reward="question-score"))


def test_finetune_cli_names_a_bad_field(capsys):
    from t2v.cli import main

    assert main(["finetune", "--steps", "0"]) == 2
    assert "steps must be" in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["epsilon", "v_prediction"])
def test_the_clean_video_a_model_output_implies(kind):
    """Given the true noise (or diffusers' own velocity of it), ``predicted_clean`` recovers the clean sample."""
    from diffusers import DDIMScheduler

    from t2v.rewards.train import predicted_clean

    scheduler = DDIMScheduler(prediction_type=kind)
    gen = torch.Generator().manual_seed(0)
    clean, noise = torch.randn(2, 4, 3, 8, 8, generator=gen), torch.randn(2, 4, 3, 8, 8, generator=gen)
    t = torch.tensor([700])
    noisy = scheduler.add_noise(clean, noise, t)
    output = noise if kind == "epsilon" else scheduler.get_velocity(clean, noise, t)
    assert torch.allclose(predicted_clean(scheduler, noisy, output, t), clean, atol=1e-4)
    from diffusers import FlowMatchEulerDiscreteScheduler

    with pytest.raises(ValueError, match="objective 'x0' needs a scheduler with alphas_cumprod"):
        predicted_clean(FlowMatchEulerDiscreteScheduler(), noisy, output, t)


def test_x0_objective_with_a_motion_reward_trains_a_lora(tiny_model_dir, tmp_path):
    """One guided call on data clips noised to a drawn level, its predicted clean video scored by the per-frame
    reward and the motion reward: the LoRA moves, the log has finite rewards."""
    from t2v.world.parser import parse_caption
    from t2v.world.render import render

    clips = np.stack([render(parse_caption(p, frames=4, size=32)) for p in PROMPTS])
    save_file({"clips": torch.from_numpy(clips)}, str(tmp_path / "data.safetensors"),
              metadata={"prompts": json.dumps(PROMPTS)})
    cfg = quick_config(tiny_model_dir, tmp_path / "run", objective="x0", video_reward="shapes-motion",
                       video_reward_weight=0.5, video_source="data", data_file=str(tmp_path / "data.safetensors"))
    lora = train(cfg, judge=brightness_judge)
    records = [json.loads(line) for line in (tmp_path / "run" / LOG_FILE).read_text().splitlines()]
    assert all(np.isfinite(r["reward"]) for r in records[1:])
    ups = [v for k, v in load_file(str(lora / "pytorch_lora_weights.safetensors")).items() if "lora.up" in k]
    assert any(v.abs().sum() > 0 for v in ups)
    assert "validation_video_reward" in records[-1]

    from dataclasses import replace

    from t2v.models import load_pipeline
    from t2v.rewards import load_reward
    from t2v.rewards.train import EditingObjective

    pipe = load_pipeline(str(tiny_model_dir))
    per_frame, motion = load_reward("shapes-alignment"), load_reward("shapes-motion")

    def loss(weight: float | None) -> torch.Tensor:
        """The same step (same draws) with the motion reward at ``weight``, or with none."""
        config = replace(cfg, video_reward_weight=weight or 0.0)
        objective = EditingObjective(pipe, per_frame, config, 4.0, None if weight is None else motion)
        with torch.no_grad():
            return objective.loss(pipe.unet, PROMPTS[:1], torch.Generator().manual_seed(0), clips[:1])[0]

    assert torch.allclose(loss(0.0), loss(None), atol=1e-6)  # the whole-clip decode scores the same frames
    assert not torch.allclose(loss(2.0), loss(None), atol=1e-3)


def test_rewards_in_the_wrong_place_are_refused_by_name(tiny_model_dir, tmp_path):
    with pytest.raises(ValueError, match="video_reward 'shapes-alignment' must score whole videos"):
        train(quick_config(tiny_model_dir, tmp_path / "run", video_reward="shapes-alignment"))
    with pytest.raises(ValueError, match="reward 'shapes-motion' scores whole videos.*video_reward"):
        train(quick_config(tiny_model_dir, tmp_path / "run2", reward="shapes-motion"))


def test_the_x0_objective_draws_noise_levels_from_s_to_the_noisiest():
    """On a 20-step trailing schedule, s = 0.5 is timestep 499 and the noisiest 999: every drawn level lies
    between, both halves are reached (read off the real UNet's calls by a hook)."""
    from t2v.models import load_pipeline
    from t2v.rewards.train import EditingObjective

    pipe = load_pipeline("tiny-shapes")
    cfg = FinetuneConfig(objective="x0", noise_fraction=0.5, num_inference_steps=20)
    objective = EditingObjective(pipe, None, cfg, 4.0)
    seen: list[int] = []
    hook = pipe.unet.register_forward_pre_hook(lambda module, args: seen.append(int(args[1])))
    x0, embeds = torch.zeros(1, 4, 2, 8, 8), torch.zeros(2, 4, 384)
    try:
        with torch.no_grad():
            for i in range(40):
                objective.predict_clean(pipe.unet, x0, embeds, torch.Generator().manual_seed(i))
    finally:
        hook.remove()
    assert len(seen) == 40 and all(499 <= t <= 999 for t in seen)
    assert min(seen) < 749 < max(seen)


def test_constant_schedule_holds_the_peak_after_the_warm_up():
    from t2v.training.common import lr_at

    assert [lr_at(s, 1.0, 4, 100, "constant") for s in (0, 3, 4, 50, 99)] == [0.25, 1.0, 1.0, 1.0, 1.0]
    assert lr_at(99, 1.0, 4, 100) < 0.2  # the cosine decay, for contrast


def test_a_checkpoint_of_another_config_is_not_resumed(tiny_model_dir, tmp_path):
    train(quick_config(tiny_model_dir, tmp_path / "run", steps=1, validation_every=1))
    train(quick_config(tiny_model_dir, tmp_path / "run", steps=2, validation_every=2))  # a longer run goes on
    with pytest.raises(ValueError, match="checkpoint of another config.*learning_rate"):
        train(quick_config(tiny_model_dir, tmp_path / "run", steps=3, learning_rate=5e-4))
