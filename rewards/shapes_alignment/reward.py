"""``shapes-alignment``: a differentiable reward for how well frames show a shapes-world prompt.

It reads each frame with :class:`~.network.ShapesPerception` and scores the log-likelihood of what the prompt
asks: for every colour, how many objects of it there are (a stray blob of another colour, or a second blob of
the prompt's colour, costs as much as a missing object), the shapes and sizes of the prompt's colours, the
background, and a left/right/above/below relation. A frame's score is the mean of those log-probabilities
(each floored at −7), so 0 is a frame the network is sure of and lower is worse. Motion and camera are not
judged (they need more than one frame).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Self

import torch
import torch.nn.functional as F
from safetensors.torch import load_file

from t2v.world.parser import parse_caption
from t2v.world.spec import WorldSpec

from ..base import Reward
from .network import ShapesPerception, log_likelihoods
from .targets import Targets, targets_for

WEIGHTS = Path(__file__).resolve().parents[1] / "weights" / "shapes-alignment"
FRAME_SIZE = 32  # the side the network was trained at; other sizes are resized to it
PASS_LOG_PROB = float(torch.tensor(0.5).log())


def load_network(path: str | Path | None = None, device: str | torch.device = "cpu",
                 dtype: torch.dtype = torch.float32) -> ShapesPerception:
    """The perception network from ``path`` (a folder with ``config.json`` and ``model.safetensors``; default:
    the weights shipped with t2v), shared by ``shapes-alignment`` and ``shapes-motion``."""
    folder = Path(path) if path is not None else WEIGHTS
    config_file, weights_file = folder / "config.json", folder / "model.safetensors"
    if not config_file.is_file() or not weights_file.is_file():
        raise FileNotFoundError(
            f"path {folder} must hold config.json and model.safetensors of a shapes-alignment reward "
            "(train one with: python -m t2v.rewards.shapes_alignment.fit --out DIR)")
    config = json.loads(config_file.read_text())
    network = ShapesPerception(width=int(config["width"]))
    network.load_state_dict(load_file(str(weights_file)))
    return network.to(device=device, dtype=dtype)


class ShapesNetworkReward(Reward):
    """What both rewards of the shapes-alignment network share: its weights, reading frames at the size it was
    trained at, and what each prompt asks (parsed once: a trainer asks the same prompts often)."""

    def __init__(self, network: ShapesPerception) -> None:
        self.network = network.eval().requires_grad_(False)
        self._asked: dict[str, Any] = {}

    @classmethod
    def from_pretrained(cls, path: str | Path | None = None, device: str | torch.device = "cpu",
                        dtype: torch.dtype = torch.float32) -> Self:
        """Load the network from ``path`` (a folder with ``config.json`` and ``model.safetensors``; default:
        the weights shipped with t2v)."""
        return cls(load_network(path, device, dtype))

    def to(self, device: torch.device | str) -> Self:
        self.network.to(device)
        return self

    def asked(self, spec: WorldSpec) -> Any:
        """What this reward checks of a prompt's scene."""
        raise NotImplementedError

    def asked_by(self, prompt: str) -> Any:
        if prompt not in self._asked:
            try:
                self._asked[prompt] = self.asked(parse_caption(prompt))
            except ValueError as err:
                raise ValueError(f"prompts: {prompt!r} is outside the shapes world: {err}") from err
        return self._asked[prompt]

    def read(self, frames: torch.Tensor) -> dict[str, torch.Tensor]:
        """The network's readings of every frame of ``frames`` ``(B, F, 3, H, W)``, flattened to ``B·F``."""
        flat = frames.reshape(-1, *frames.shape[2:])
        if flat.shape[-1] != FRAME_SIZE or flat.shape[-2] != FRAME_SIZE:
            flat = F.interpolate(flat, size=(FRAME_SIZE, FRAME_SIZE), mode="area")
        param = next(self.network.parameters())
        return self.network(flat.to(device=param.device, dtype=param.dtype))


class ShapesAlignmentReward(ShapesNetworkReward):
    name = "shapes-alignment"
    per_frame = True
    differentiable = True

    def asked(self, spec: WorldSpec) -> Targets:
        return targets_for(spec)

    def targets(self, prompts: list[str]) -> Targets:
        """What each prompt asks, read by the world's parser."""
        return Targets.stack([self.asked_by(p) for p in prompts])

    def checks(self, frames: torch.Tensor, prompts: list[str]) -> torch.Tensor:
        """Log-likelihood of every check on every frame, ``(B, F, checks)``, NaN where one does not apply."""
        b, f = frames.shape[:2]
        readings = self.read(frames)
        targets = self.targets(prompts).to(readings["masks"].device)
        per_frame = targets.apply(lambda tensor: tensor.repeat_interleave(f, dim=0))
        return log_likelihoods(readings, per_frame).reshape(b, f, -1)

    def score(self, frames: torch.Tensor, prompts: list[str]) -> torch.Tensor:
        return self.checks(frames, prompts).nanmean(dim=-1).to(frames.dtype)

    @torch.no_grad()
    def verdict(self, frames: torch.Tensor, prompts: list[str]) -> torch.Tensor:
        """Per video: does the network read the prompt on at least half of the frames (every check above
        even odds)? The reward's yes/no, to compare with the oracle's."""
        checks = self.checks(frames, prompts)
        frame_ok = torch.where(checks.isnan(), True, checks > PASS_LOG_PROB).all(dim=-1)
        return frame_ok.float().mean(dim=1) >= 0.5
