"""Caching on Wan (diffusers' FirstBlockCache, MagCache, TaylorSeer through ``load_pipeline(cache=...)``,
``--cache`` and ``t2v cache calibrate``), on tiny random Wan models: each cache skips work and stays close to
the uncached video, never skips (so equals it) at a zero threshold, starts afresh at every run, is off inside
``caching_disabled``, and is refused where it cannot work."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from t2v.cli import main
from t2v.commands._common import CACHE_CHOICES
from t2v.models import load_pipeline
from t2v.models.caching import (
    CACHE_KINDS,
    cache_kind,
    caching_disabled,
    calibrate_mag_ratios,
    check_cache,
    check_cache_for,
    disable_caching,
    enable_caching,
)
from t2v.pipelines import T2VWanPipeline
from t2v.pipelines.pipeline_transition import TransitionWanPipeline
from t2v.pipelines.wan_model_call import wan_velocity
from tests.tiny_wan import HEIGHT, NUM_FRAMES, tiny_call_kwargs, tiny_wan_pipeline

STEPS = 8
SKIPPING = {"first-block": {"threshold": 0.5}, "mag": {"threshold": 1.0}, "taylorseer": {}}
NEVER_SKIPPING = {"first-block": {"threshold": 0}, "mag": {"threshold": 0},
                  "taylorseer": {"disable_cache_before_step": 1000}}


def frames(pipe, steps: int = STEPS, seed: int = 0) -> np.ndarray:
    return pipe("a red ball", **tiny_call_kwargs(seed, num_inference_steps=steps, output_type="np")).frames[0]


class BlockRuns:
    """Counts the passes that really compute the last block of each expert (its feed-forward runs only then)."""

    def __init__(self, pipe) -> None:
        self.count = 0
        self.handles = [model.blocks[-1].ffn.register_forward_hook(self._seen)
                        for model in (pipe.transformer, pipe.transformer_2) if model is not None]

    def _seen(self, *_) -> None:
        self.count += 1

    def close(self) -> None:
        for handle in self.handles:
            handle.remove()


def runs_of_last_block(pipe, steps: int = STEPS) -> tuple[np.ndarray, int]:
    counter = BlockRuns(pipe)
    try:
        return frames(pipe, steps), counter.count
    finally:
        counter.close()


@pytest.fixture(scope="module")
def pipe():
    return tiny_wan_pipeline(T2VWanPipeline)


@pytest.fixture(scope="module")
def uncached(pipe) -> tuple[np.ndarray, int]:
    return runs_of_last_block(pipe)


@pytest.fixture(scope="module")
def ratios(pipe) -> dict:
    data = calibrate_mag_ratios(pipe, "a red ball", num_inference_steps=STEPS, height=HEIGHT, width=HEIGHT,
                                num_frames=NUM_FRAMES)
    assert cache_kind(pipe) is None  # calibration leaves no cache behind
    return data


@pytest.fixture
def cached(pipe, ratios):
    """Enables a cache on the shared pipeline for one test, and takes it off after."""
    def enable(kind: str, options: dict | None = None) -> None:
        enable_caching(pipe, kind, options=options, mag_ratios=ratios if kind == "mag" else None)

    yield enable
    disable_caching(pipe)


@pytest.mark.parametrize("kind", CACHE_KINDS)
def test_each_cache_skips_work_and_stays_close_to_uncached(pipe, uncached, cached, kind):
    expected, full_runs = uncached
    assert full_runs == 2 * STEPS  # conditional and unconditional pass at each step
    cached(kind, SKIPPING[kind])
    assert cache_kind(pipe) == kind
    out, runs = runs_of_last_block(pipe)
    assert runs < full_runs, f"{kind} skipped nothing"
    assert not np.array_equal(out, expected)
    diff = np.abs(out - expected)
    assert diff.mean() < 0.02 and diff.max() < 0.25, (diff.mean(), diff.max())
    again, _ = runs_of_last_block(pipe)
    np.testing.assert_array_equal(again, out)  # a second run starts afresh: the same video


@pytest.mark.parametrize("kind", CACHE_KINDS)
def test_a_cache_that_never_skips_gives_the_uncached_video(pipe, uncached, cached, kind):
    cached(kind, NEVER_SKIPPING[kind])
    out, runs = runs_of_last_block(pipe)
    assert runs == uncached[1]
    np.testing.assert_array_equal(out, uncached[0])


def test_default_settings_run(pipe, uncached, cached):
    for kind in CACHE_KINDS:
        cached(kind)
        out = frames(pipe)
        assert np.abs(out - uncached[0]).mean() < 0.02
        disable_caching(pipe)


def test_caching_disabled_runs_the_full_model_and_puts_the_cache_back(pipe, uncached, cached):
    cached("first-block", SKIPPING["first-block"])
    skipped, _ = runs_of_last_block(pipe)
    with caching_disabled(pipe):
        assert cache_kind(pipe) is None
        out, runs = runs_of_last_block(pipe)
        with caching_disabled(pipe):  # nesting is fine
            pass
        assert cache_kind(pipe) is None
    np.testing.assert_array_equal(out, uncached[0])
    assert runs == uncached[1]
    assert cache_kind(pipe) == "first-block"
    np.testing.assert_array_equal(runs_of_last_block(pipe)[0], skipped)
    with caching_disabled(pipe, disabled=False):
        assert cache_kind(pipe) == "first-block"


def test_caching_disabled_lets_gradients_through(pipe, cached):
    """Training runs the transformer with gradients and no cache context: inside caching_disabled it can."""
    cached("first-block", SKIPPING["first-block"])
    model = pipe.transformer
    latents = torch.randn(1, 16, 3, 8, 8)
    embeds = torch.randn(1, 16, 32)
    with caching_disabled(pipe):
        out = model(hidden_states=latents, timestep=torch.tensor([500]), encoder_hidden_states=embeds,
                    return_dict=False)[0]
        out.square().mean().backward()
    grads = [p.grad for p in model.blocks[-1].parameters() if p.grad is not None]
    assert grads and any(g.abs().sum() > 0 for g in grads)
    model.zero_grad(set_to_none=True)


def _shared_loop(pipe, steps: int = 4) -> torch.Tensor:
    """The t2v loops' denoiser call over a run of steps, with no reset between runs (as a multi-scene story
    runs scene after scene)."""
    generator = torch.Generator().manual_seed(3)
    latents = torch.randn(1, 16, 3, 8, 8, generator=generator)
    embeds, negative = torch.randn(2, 1, 16, 32, generator=generator)
    pipe.scheduler.set_timesteps(steps)
    outs = [wan_velocity(pipe, latents, t, embeds, negative, 5.0, step_index=i, num_steps=steps)
            for i, t in enumerate(pipe.scheduler.timesteps)]
    return torch.stack(outs)


@pytest.mark.parametrize("kind", CACHE_KINDS)
def test_each_run_of_the_shared_loop_starts_afresh(pipe, cached, kind):
    cached(kind, SKIPPING[kind])
    first = _shared_loop(pipe)
    second = _shared_loop(pipe)  # no maybe_free_model_hooks in between: the guard sees step 0 again
    torch.testing.assert_close(second, first, rtol=0, atol=0)
    with caching_disabled(pipe):
        full = _shared_loop(pipe)
    assert not torch.equal(first, full)


def test_the_shared_loop_pipelines_run_with_a_cache(cached, ratios):
    """generate_with_given (the loop of transitions, keyframes, continuation) goes through wan_velocity."""
    pipe = tiny_wan_pipeline(TransitionWanPipeline)
    kwargs = dict(num_inference_steps=4, guidance_scale=5.0)
    expected = pipe.generate_with_given("a red ball", NUM_FRAMES, generator=torch.Generator().manual_seed(0),
                                        **kwargs)
    enable_caching(pipe, "first-block", options={"threshold": 0})
    same = pipe.generate_with_given("a red ball", NUM_FRAMES, generator=torch.Generator().manual_seed(0), **kwargs)
    np.testing.assert_array_equal(same, expected)
    enable_caching(pipe, "taylorseer", options={"cache_interval": 2, "disable_cache_before_step": 1})
    near = pipe.generate_with_given("a red ball", NUM_FRAMES, generator=torch.Generator().manual_seed(0), **kwargs)
    assert np.abs(near.astype(float) - expected).mean() < 8  # uint8 frames


def test_both_experts_are_cached():
    pipe = tiny_wan_pipeline(T2VWanPipeline, two_experts=True)
    expected, full_runs = runs_of_last_block(pipe)
    data = calibrate_mag_ratios(pipe, "a red ball", num_inference_steps=STEPS, height=HEIGHT, width=HEIGHT,
                                num_frames=NUM_FRAMES)
    assert set(data["experts"]) == {"transformer", "transformer_2"}
    high = data["experts"]["transformer"]["cond"]
    low = data["experts"]["transformer_2"]["cond"]
    assert len(high) == len(low) == STEPS
    # each expert measured its own steps (the high-noise expert the first ones) and 1.0 where it did not run
    assert high[-1] == 1.0 and low[0] == 1.0 and high[1] != 1.0 and low[-1] != 1.0
    for kind in CACHE_KINDS:
        ratios = data if kind == "mag" else None
        enable_caching(pipe, kind, options=NEVER_SKIPPING[kind], mag_ratios=ratios)
        assert all(m._t2v_cache.kind == kind for m in (pipe.transformer, pipe.transformer_2))
        np.testing.assert_array_equal(frames(pipe), expected)
        enable_caching(pipe, kind, options=SKIPPING[kind], mag_ratios=ratios)
        out, runs = runs_of_last_block(pipe)
        assert runs < full_runs and np.abs(out - expected).mean() < 0.02
    disable_caching(pipe)
    assert cache_kind(pipe) is None


def test_the_stock_wan_pipeline_call_runs_with_each_cache():
    """diffusers' own WanPipeline.__call__ opens cache_context("cond"/"uncond") with the step index too."""
    pipe = tiny_wan_pipeline()  # diffusers' WanPipeline, not t2v's subclass
    expected, full_runs = runs_of_last_block(pipe)
    data = calibrate_mag_ratios(pipe, "a red ball", num_inference_steps=STEPS, height=HEIGHT, width=HEIGHT,
                                num_frames=NUM_FRAMES, max_sequence_length=16)
    for kind in CACHE_KINDS:
        ratios = data if kind == "mag" else None
        enable_caching(pipe, kind, options=NEVER_SKIPPING[kind], mag_ratios=ratios)
        np.testing.assert_array_equal(frames(pipe), expected)
        enable_caching(pipe, kind, options=SKIPPING[kind], mag_ratios=ratios)
        out, runs = runs_of_last_block(pipe)
        assert runs < full_runs and np.abs(out - expected).mean() < 0.02
    disable_caching(pipe)


def test_mag_ratios_serve_another_step_count(pipe, cached, ratios):
    cached("mag", SKIPPING["mag"])
    with caching_disabled(pipe):
        expected = frames(pipe, steps=12)
    out = frames(pipe, steps=12)  # calibrated at 8 steps
    assert np.abs(out - expected).mean() < 0.02


# -- load_pipeline, the CLI and calibration ---------------------------------------------------------------------

def cli(*args: str) -> int:
    try:
        return main(list(args))
    except SystemExit as exit_:
        return int(exit_.code)


def test_calibrate_writes_ratios_that_the_mag_cache_reads(wan_dir, tmp_path, capsys):
    folder = shutil.copytree(wan_dir, tmp_path / "model")
    assert cli("cache", "calibrate", "--model", str(folder), "--steps", "6") == 0
    written = folder / "mag_ratios.json"
    assert f"wrote {written}" in capsys.readouterr().out
    data = json.loads(written.read_text())
    assert data["num_inference_steps"] == 6 and data["model"] == str(folder)
    assert set(data["experts"]["transformer"]) == {"cond", "uncond"}
    assert len(data["experts"]["transformer"]["cond"]) == 6
    assert not list(folder.glob(".mag_ratios.json.*"))  # no temp file left behind
    pipe = load_pipeline(str(folder), cache="mag", cache_options={"threshold": 1.0})  # the default place
    assert cache_kind(pipe) == "mag"
    pipe.set_progress_bar_config(disable=True)
    assert frames(pipe).shape == (NUM_FRAMES, HEIGHT, HEIGHT, 3)
    # elsewhere, named with --out / --mag-ratios
    out_file = tmp_path / "ratios" / "wan.json"
    assert cli("cache", "calibrate", "--model", str(wan_dir), "--steps", "4", "--out", str(out_file)) == 0
    video = tmp_path / "v.gif"
    assert cli("generate", "a red ball", "--model", str(wan_dir), "--steps", "4", "--cache", "mag",
               "--mag-ratios", str(out_file), "--cache-threshold", "0.5", "-o", str(video)) == 0
    assert video.is_file()


def test_missing_ratios_say_to_run_calibrate(wan_dir, tmp_path, capsys):
    with pytest.raises(FileNotFoundError, match=r"t2v cache calibrate --model .*tiny-wan"):
        load_pipeline(str(wan_dir), cache="mag")
    bad = tmp_path / "bad.json"
    bad.write_text('{"something": "else"}')
    with pytest.raises(ValueError, match="not a t2v magnitude-ratios file"):
        load_pipeline(str(wan_dir), cache="mag", mag_ratios=str(bad))
    out = tmp_path / "a.gif"
    assert cli("generate", "a red ball", "--model", str(wan_dir), "--steps", "2", "--cache", "mag",
               "-o", str(out)) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("t2v generate: error: cache 'mag' needs") and "t2v cache calibrate" in err
    assert "\n" not in err and not out.exists()


@pytest.mark.parametrize("verb", ["generate", "story"])
def test_cache_on_a_unet_model_exits_2_in_one_line(tiny_model_dir, tmp_path, capsys, verb):
    out = tmp_path / "a.gif"
    assert cli(verb, "a red ball", "--model", str(tiny_model_dir), "--steps", "1", "--cache", "first-block",
               "-o", str(out)) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"t2v {verb}: error: cache 'first-block' is for Wan (transformer) models")
    assert "\n" not in err and not out.exists()
    with pytest.raises(ValueError, match="UNet"):
        load_pipeline("tiny-shapes", cache="taylorseer")


def test_cli_generate_with_each_cache(wan_dir, tmp_path):
    for kind in ("first-block", "taylorseer"):
        out = tmp_path / f"{kind}.gif"
        assert cli("generate", "a red ball", "--model", str(wan_dir), "--steps", "4", "--cache", kind,
                   "-o", str(out)) == 0
        assert out.is_file()


@pytest.mark.parametrize("argv, message", [
    (["--cache", "fast"], "invalid choice: 'fast'"),
    (["--cache", "taylorseer", "--cache-threshold", "0.1"], "--cache-threshold is for --cache first-block or mag"),
    (["--mag-ratios", "x.json"], "--mag-ratios is for --cache mag"),
    (["--cache", "first-block", "--cache-threshold", "-1"], "expected a non-negative number"),
])
def test_bad_cache_flags_exit_2_in_one_line(wan_dir, tmp_path, capsys, argv, message):
    out = tmp_path / "a.gif"
    assert cli("generate", "a red ball", "--model", str(wan_dir), "--steps", "1", *argv, "-o", str(out)) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and not out.exists()


@pytest.mark.parametrize("cache, options, message", [
    ("fast", None, r"^cache must be None or one of 'first-block', 'mag', 'taylorseer', got 'fast'"),
    ("first-block", {"interval": 2}, r"^cache_options\['interval'\] is not a setting of cache 'first-block'"),
    ("first-block", {"threshold": -0.1}, r"^cache_options\['threshold'\] must be a non-negative number"),
    ("taylorseer", {"cache_interval": 0}, r"^cache_options\['cache_interval'\] must be a positive integer"),
    ("mag", {"retention_ratio": 2}, r"^cache_options\['retention_ratio'\] must be a number in \[0, 1\]"),
    (None, {"threshold": 0.1}, r"^cache_options are for a cache"),
])
def test_bad_cache_arguments_are_refused_naming_them(cache, options, message):
    with pytest.raises(ValueError, match=message):
        check_cache(cache, options)
    with pytest.raises(ValueError, match=message):
        load_pipeline("tiny-shapes", cache=cache, cache_options=options)


def test_caches_that_cannot_work_on_a_layout_are_refused():
    with pytest.raises(ValueError, match="VACE.*twice"):
        check_cache_for("first-block", "WanVACEPipeline")
    with pytest.raises(ValueError, match="step index"):
        check_cache_for("mag", "WanImageToVideoPipeline")
    check_cache_for("taylorseer", "WanVACEPipeline")
    check_cache_for("first-block", "WanImageToVideoPipeline")


def test_the_cli_choices_are_the_cache_kinds():
    assert CACHE_CHOICES == CACHE_KINDS


def test_batch_keys_carry_the_cache_and_bad_cache_settings_are_refused_up_front():
    from t2v.batch import BatchSettings

    plain, cached = BatchSettings(), BatchSettings(cache="taylorseer")
    assert "cache" not in plain.keyed() and cached.keyed()["cache"] == "taylorseer"
    for bad, message in ((BatchSettings(cache="tea"), "cache must be"),
                         (BatchSettings(mag_ratios="r.json"), "mag_ratios is for cache 'mag'")):
        with pytest.raises(ValueError, match=message):
            bad.check()


def test_calibration_gives_back_the_cache_the_pipeline_had():
    pipe = tiny_wan_pipeline(T2VWanPipeline)
    enable_caching(pipe, "taylorseer")
    calibrate_mag_ratios(pipe, "a red ball", num_inference_steps=2, height=HEIGHT, width=HEIGHT,
                         num_frames=NUM_FRAMES)
    assert cache_kind(pipe) == "taylorseer"
