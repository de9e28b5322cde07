import os

import pytest
import torch

from t2v.training.checkpoint import find_state, load_state, save_state


def _trained():
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    model(torch.randn(4, 3)).sum().backward()
    optimizer.step()
    return model, optimizer


def test_state_round_trips_weights_optimizer_and_meta(tmp_path):
    model, optimizer = _trained()
    save_state(tmp_path / "ckpt", models={"m": model}, optimizer=optimizer, meta={"step": 7})
    fresh = torch.nn.Linear(3, 2)
    fresh_opt = torch.optim.AdamW(fresh.parameters(), lr=1e-2)
    assert load_state(tmp_path / "ckpt", models={"m": fresh}, optimizer=fresh_opt) == {"step": 7}
    torch.testing.assert_close(fresh.weight, model.weight)
    restored, original = fresh_opt.state_dict()["state"][0], optimizer.state_dict()["state"][0]
    torch.testing.assert_close(restored["exp_avg"], original["exp_avg"])


def test_a_save_interrupted_between_renames_resumes_from_the_previous_state(tmp_path):
    model, optimizer = _trained()
    ckpt = tmp_path / "ckpt"
    save_state(ckpt, models={"m": model}, optimizer=optimizer, meta={"step": 3})
    os.replace(ckpt, ckpt.with_name("ckpt.old"))  # where a crash in the next save would leave it
    assert find_state(ckpt) == ckpt.with_name("ckpt.old")
    fresh = torch.nn.Linear(3, 2)
    assert load_state(ckpt, models={"m": fresh}, optimizer=None) == {"step": 3}
    torch.testing.assert_close(fresh.weight, model.weight)


def test_missing_state_is_a_clear_error(tmp_path):
    assert find_state(tmp_path / "none") is None
    with pytest.raises(FileNotFoundError, match="no training state"):
        load_state(tmp_path / "none", models={}, optimizer=None)
