"""Attention backends of UNet pipelines: SDPA by default, xformers when it can run (else one warning and SDPA),
diffusers' dispatcher backends refused by name, and ``--attention`` on the generating verbs."""

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
