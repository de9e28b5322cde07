"""Save and resume training state with safetensors and JSON only (no pickle).

Model weights, an EMA copy and the optimiser's tensors go to safetensors files; step
counters, RNG seeds and optimiser hyper-parameters to JSON. Writes are atomic: a folder is
written under a temporary name, then renamed, so an interrupted save never leaves a
half-written checkpoint that resume would trust.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

logger = logging.getLogger(__name__)


def _optimizer_tensors(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    state = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, Any] = {"param_groups": state["param_groups"], "state": {}}
    for pid, pstate in state["state"].items():
        scalars["state"][str(pid)] = {}
        for key, value in pstate.items():
            if torch.is_tensor(value):
                tensors[f"{pid}.{key}"] = value.detach().contiguous().cpu()
            else:
                scalars["state"][str(pid)][key] = value
    return tensors, scalars


def _restore_optimizer(optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], scalars: dict) -> None:
    state: dict[int, dict[str, Any]] = {}
    for pid, values in scalars["state"].items():
        state[int(pid)] = dict(values)
    for name, tensor in tensors.items():
        pid, key = name.split(".", 1)
        state.setdefault(int(pid), {})[key] = tensor
    optimizer.load_state_dict({"state": state, "param_groups": scalars["param_groups"]})


def save_state(
    folder: str | Path,
    *,
    models: dict[str, torch.nn.Module],
    optimizer: torch.optim.Optimizer | None,
    meta: dict[str, Any],
) -> Path:
    """Write ``models`` (name → module), the optimiser and ``meta`` to ``folder`` atomically."""
    folder = Path(folder)
    tmp = folder.with_name(folder.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    for name, model in models.items():
        weights = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
        save_file(weights, str(tmp / f"{name}.safetensors"))
    extra: dict[str, Any] = {}
    if optimizer is not None:
        tensors, scalars = _optimizer_tensors(optimizer)
        save_file(tensors, str(tmp / "optimizer.safetensors"))
        extra["optimizer"] = scalars
    (tmp / "state.json").write_text(json.dumps({"meta": meta, **extra}))
    old = folder.with_name(folder.name + ".old")
    if folder.exists():
        if old.exists():
            shutil.rmtree(old)
        os.replace(folder, old)
    os.replace(tmp, folder)
    if old.exists():
        shutil.rmtree(old)
    return folder


def save_pretrained_atomically(model: Any, target: Path) -> Path:
    """``model.save_pretrained(target)`` through a temporary folder, so a stage that checks ``target``
    to know it is done never finds it half written."""
    partial = target.with_name(target.name + ".tmp")
    model.save_pretrained(partial)
    partial.replace(target)
    return target


def write_folder_atomically(target: str | Path, write: Callable[[Path], None]) -> Path:
    """``write`` fills a temporary folder beside ``target``, which then takes its place (replacing an older
    one), so a reader never finds ``target`` half written."""
    target = Path(target)
    partial = target.with_name(target.name + ".tmp")
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    write(partial)
    if target.exists():
        shutil.rmtree(target)
    partial.replace(target)
    return target


def find_state(folder: str | Path) -> Path | None:
    """The checkpoint to resume from: ``folder``, or the previous one kept as ``<folder>.old`` when a save
    was interrupted between its two renames; None when there is none."""
    folder = Path(folder)
    for candidate in (folder, folder.with_name(folder.name + ".old")):
        if (candidate / "state.json").is_file():
            return candidate
    return None


def load_state(
    folder: str | Path,
    *,
    models: dict[str, torch.nn.Module],
    optimizer: torch.optim.Optimizer | None,
) -> dict[str, Any]:
    """Restore what :func:`save_state` wrote; returns the saved ``meta``."""
    found = find_state(folder)
    if found is None:
        raise FileNotFoundError(f"no training state in {folder}")
    folder = found
    data = json.loads((folder / "state.json").read_text())
    for name, model in models.items():
        model.load_state_dict(load_file(str(folder / f"{name}.safetensors")))
    if optimizer is not None and "optimizer" in data:
        _restore_optimizer(optimizer, load_file(str(folder / "optimizer.safetensors")), data["optimizer"])
    return data["meta"]


def resume_step(folder: str | Path, *, models: dict[str, torch.nn.Module], optimizer: torch.optim.Optimizer,
                stage: str) -> int:
    """The step a single-process stage starts at: its checkpoint's (restoring ``models`` and ``optimizer``), else 0."""
    if find_state(folder) is None:
        return 0
    step = load_state(folder, models=models, optimizer=optimizer)["step"]
    logger.info("resumed %s at step %d", stage, step)
    return step


class StageProgress:
    """Loss log every ``log_every`` steps and a resumable checkpoint every ``checkpoint_every`` steps and at
    the last, for the single-process stages' loops."""

    def __init__(self, stage: str, total: int, folder: Path, models: dict[str, torch.nn.Module],
                 optimizer: torch.optim.Optimizer, *, log_every: int, checkpoint_every: int) -> None:
        self.stage, self.total, self.folder, self.models, self.optimizer = stage, total, folder, models, optimizer
        self.log_every, self.checkpoint_every = log_every, checkpoint_every
        self.running, self.start = 0.0, time.time()

    def after(self, step: int, loss: float) -> None:
        """Record the loss of ``step`` (counted from 1); log and checkpoint when due."""
        self.running += loss
        if step % self.log_every == 0:
            logger.info("%s step %d/%d loss %.4f %.2f steps/s", self.stage, step, self.total,
                        self.running / self.log_every, self.log_every / (time.time() - self.start))
            self.running, self.start = 0.0, time.time()
        if step % self.checkpoint_every == 0 or step == self.total:
            save_state(self.folder, models=self.models, optimizer=self.optimizer, meta={"step": step})
