"""Attention backends. UNet pipelines: SDPA by default, xformers when it can run (else one warning and SDPA),
diffusers' dispatcher backends refused by name. Wan pipelines: a dispatcher backend on both experts when a probe
runs it, else one warning and SDPA; hub backends refused offline. ``--attention`` on the generating verbs."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from diffusers.models.attention_processor import AttnProcessor2_0

from t2v.cli import main
from t2v.generation import generate
from t2v.models import attention as attention_backends
from t2v.models import load_pipeline


@pytest.fixture
def fresh_warnings(monkeypatch):
    """A process that has not warned yet."""
    monkeypatch.setattr(attention_backends, "_warned", set())


def xformers_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "xformers" in r.getMessage() and r.levelno == logging.WARNING]


@pytest.mark.parametrize("installed", [False, True], ids=["not-installed", "installed-no-cuda"])
def test_xformers_that_cannot_run_warns_once_and_keeps_sdpa(tiny_model_dir, caplog, monkeypatch, fresh_warnings,
                                                            installed):
    import diffusers.utils
    import torch

    if torch.cuda.is_available():
        pytest.skip("checks the fallback on a machine without CUDA")
    if installed:  # the package present, the GPU not: the CUDA check must catch it
        monkeypatch.setattr(diffusers.utils, "is_xformers_available", lambda: True)
    with caplog.at_level(logging.WARNING):
        pipe = load_pipeline(str(tiny_model_dir), attention="xformers")
        again = load_pipeline(str(tiny_model_dir), attention="xformers")
    messages = xformers_warnings(caplog)
    assert len(messages) == 1, messages
    assert ("not installed" in messages[0]) != installed and ("CUDA" in messages[0]) == installed
    assert "SDPA" in messages[0]
    for p in (pipe, again):
        assert all(type(proc) is AttnProcessor2_0 for proc in p.unet.attn_processors.values())
        assert all(type(proc) is AttnProcessor2_0 for proc in p.vae.attn_processors.values())
    pipe.set_progress_bar_config(disable=True)
    frames, _ = generate(pipe, "a red ball moving left", num_inference_steps=1)
    assert frames.shape == (4, 32, 32, 3) and frames.dtype == np.uint8


def test_sdpa_is_the_default_and_keeps_diffusers_processors(tiny_model_dir, caplog, fresh_warnings):
    with caplog.at_level(logging.WARNING):
        pipe = load_pipeline(str(tiny_model_dir), attention="sdpa")
    assert not xformers_warnings(caplog)
    assert all(type(proc) is AttnProcessor2_0 for proc in pipe.unet.attn_processors.values())


@pytest.mark.parametrize("name", ["flash", "sage", "native", "_native_cudnn"])
def test_diffusers_dispatcher_backends_are_refused_saying_why(name):
    from diffusers.models.attention_dispatch import _AttentionBackendRegistry

    active = _AttentionBackendRegistry.get_active_backend()
    with pytest.raises(ValueError, match=rf"^attention '{name}' .*UNet.*whole process"):
        load_pipeline("tiny-shapes", attention=name)
    assert _AttentionBackendRegistry.get_active_backend() == active  # nothing process-wide was switched


@pytest.mark.parametrize("name", ["SDPA", "flash-attn", "", None])
def test_unknown_backends_are_refused_with_the_allowed_ones(name):
    with pytest.raises(ValueError, match=r"^attention must be 'sdpa' or 'xformers'"):
        load_pipeline("tiny-shapes", attention=name)


def test_the_cli_refuses_a_dispatcher_backend_in_one_line(tiny_model_dir, tmp_path, capsys):
    out = tmp_path / "a.gif"
    code = main(["generate", "a red ball", "--model", str(tiny_model_dir), "--steps", "1", "-o", str(out),
                 "--attention", "flash"])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("t2v generate: error: attention 'flash'") and "\n" not in err
    assert not out.exists()


@pytest.mark.parametrize("verb", ["generate", "story"])
def test_the_cli_falls_back_to_sdpa_with_one_warning(tiny_model_dir, tmp_path, caplog, fresh_warnings, verb):
    import torch

    if torch.cuda.is_available():
        pytest.skip("checks the fallback on a machine without CUDA")
    text = "a red ball moving left" if verb == "generate" else "A red ball moves left. Then it bounces."
    out = tmp_path / "a.gif"
    with caplog.at_level(logging.WARNING):
        assert main([verb, text, "--model", str(tiny_model_dir), "--steps", "1", "-o", str(out),
                     "--attention", "xformers"]) == 0
    assert out.is_file()
    assert len(xformers_warnings(caplog)) == 1


# -- Wan: diffusers' dispatcher backends on the transformer, probed, with SDPA when one cannot run ---------------

def _dispatch_backends(pipe) -> set:
    """The backend each Wan attention processor holds as its own (None: the process default, SDPA)."""
    return {module.processor.__dict__.get("_attention_backend") for name in ("transformer", "transformer_2")
            if getattr(pipe, name, None) is not None for module in getattr(pipe, name).modules()
            if hasattr(getattr(module, "processor", None), "_attention_backend")}


@pytest.fixture(scope="module")
def wan_dir(tmp_path_factory):
    from t2v.pipelines import T2VWanPipeline
    from tests.tiny_wan import tiny_wan_pipeline

    folder = tmp_path_factory.mktemp("wan") / "tiny-wan"
    tiny_wan_pipeline(T2VWanPipeline).save_pretrained(folder)
    return folder


def _wan_frames(pipe) -> np.ndarray:
    from tests.tiny_wan import tiny_call_kwargs

    pipe.set_progress_bar_config(disable=True)
    return pipe("a red ball", **tiny_call_kwargs(output_type="np")).frames[0]


def _missing(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec({"flash": "flash_attn", "sage": "sageattention"}[name]) is None


@pytest.mark.parametrize("name", ["flash", "sage"])
def test_a_wan_backend_that_is_not_installed_warns_once_and_generates_as_sdpa(wan_dir, caplog, fresh_warnings,
                                                                             name):
    from diffusers.models.attention_dispatch import _AttentionBackendRegistry

    if not _missing(name):
        pytest.skip(f"{name} is installed here")
    active = _AttentionBackendRegistry.get_active_backend()[0]
    expected = _wan_frames(load_pipeline(str(wan_dir)))
    with caplog.at_level(logging.WARNING):
        pipe = load_pipeline(str(wan_dir), attention=name)
        load_pipeline(str(wan_dir), attention=name)
    messages = [r.getMessage() for r in caplog.records if r.name == "t2v.models.attention"]
    assert len(messages) == 1, messages
    assert messages[0].startswith(f"attention {name!r} cannot run here") and "SDPA" in messages[0]
    assert _dispatch_backends(pipe) == {None}  # every processor as it was
    assert _AttentionBackendRegistry.get_active_backend()[0] == active
    np.testing.assert_array_equal(_wan_frames(pipe), expected)


def test_a_backend_accepted_here_yet_failing_in_the_forward_pass_falls_back(caplog, fresh_warnings):
    """``_native_cudnn`` passes diffusers' checks on a CPU and fails at the first attention: the probe sees it."""
    import torch

    from t2v.models.attention import set_attention
    from t2v.pipelines import T2VWanPipeline
    from tests.tiny_wan import tiny_wan_pipeline

    pipe = tiny_wan_pipeline(T2VWanPipeline, two_experts=True)
    if torch.device(pipe._execution_device).type == "cuda":
        pytest.skip("cuDNN attention may run on a GPU")
    expected = _wan_frames(pipe)
    with caplog.at_level(logging.WARNING):
        assert set_attention(pipe, "_native_cudnn") == "sdpa"
    assert sum("'_native_cudnn' cannot run here" in r.getMessage() for r in caplog.records) == 1
    assert _dispatch_backends(pipe) == {None}
    np.testing.assert_array_equal(_wan_frames(pipe), expected)


def test_a_backend_that_runs_goes_on_both_experts_and_nowhere_else():
    from diffusers.models.attention_dispatch import AttentionBackendName, _AttentionBackendRegistry

    from t2v.models.attention import set_attention
    from t2v.pipelines import T2VWanPipeline
    from tests.tiny_wan import tiny_wan_pipeline

    pipe = tiny_wan_pipeline(T2VWanPipeline, two_experts=True)
    expected = _wan_frames(pipe)
    active = _AttentionBackendRegistry.get_active_backend()[0]
    assert set_attention(pipe, "_native_math") == "_native_math"
    assert _dispatch_backends(pipe) == {AttentionBackendName._NATIVE_MATH}
    assert _AttentionBackendRegistry.get_active_backend()[0] == active  # the process-wide default untouched
    np.testing.assert_allclose(_wan_frames(pipe), expected, atol=1e-5)


def test_hub_backends_are_refused_offline(wan_dir, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for name in ("flash_hub", "sage_hub"):
        with pytest.raises(ValueError, match=rf"^attention '{name}' downloads its kernel from the Hugging Face Hub, "
                                             r"which is offline"):
            load_pipeline(str(wan_dir), attention=name)


@pytest.mark.parametrize("name", ["SDPA", "flash-attn", "", None])
def test_unknown_backends_are_refused_on_wan_naming_the_argument(wan_dir, name):
    with pytest.raises(ValueError, match=r"^attention must be 'sdpa' or 'xformers', or on Wan models one of "
                                         r"diffusers' backends \(flash, .*sage"):
        load_pipeline(str(wan_dir), attention=name)


def test_the_cli_runs_wan_with_a_backend_that_cannot_run_here(wan_dir, tmp_path, caplog, fresh_warnings):
    if not _missing("flash"):
        pytest.skip("flash is installed here")
    out = tmp_path / "a.gif"
    with caplog.at_level(logging.WARNING):
        assert main(["generate", "a red ball", "--model", str(wan_dir), "--steps", "1", "-o", str(out),
                     "--attention", "flash"]) == 0
    assert out.is_file()
    assert sum("'flash' cannot run here" in r.getMessage() for r in caplog.records) == 1
