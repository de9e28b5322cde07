"""What the tabs share: the workspace, the models, the device, the upload limits and the sample media."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .models import ModelRegistry
from .runs import Runs
from .uploads import UploadLimits
from .workspace import Workspace

# Sample clips rendered from the shapes world at start-up, so every tab's examples run with no download.
SAMPLE_CAPTIONS: dict[str, str] = {
    "red_ball_right": "a big red ball moves right on a black background",
    "blue_square_down": "a big blue square moves down on a black background",
}
SAMPLE_SIZE, SAMPLE_FRAMES, SAMPLE_FPS = 64, 8, 8  # one model length: every tab takes them


@dataclass
class DemoContext:
    workspace: Workspace
    models: ModelRegistry
    runs: Runs = field(default_factory=Runs)
    limits: UploadLimits = field(default_factory=UploadLimits)
    samples: dict[str, Path] = field(default_factory=dict)
    _judge: Any = None

    def judge(self) -> Any:
        """The story self-check's judge (the evaluator on the oracle), made once: it caches questions."""
        if self._judge is None:
            from t2v.eval.judge import EvaluatorJudge

            self._judge = EvaluatorJudge()
        return self._judge

    def make_samples(self) -> None:
        """Render each sample caption to ``<name>.mp4`` and its first frame to ``<name>.png``."""
        from PIL import Image

        from t2v.video import write_video
        from t2v.world.parser import parse_caption
        from t2v.world.render import render

        for name, caption in SAMPLE_CAPTIONS.items():
            frames = render(parse_caption(caption, frames=SAMPLE_FRAMES, size=SAMPLE_SIZE, fps=SAMPLE_FPS))
            self.samples[name] = write_video(frames, self.workspace.samples / f"{name}.mp4", fps=SAMPLE_FPS)
            image = self.workspace.samples / f"{name}.png"
            Image.fromarray(np.ascontiguousarray(frames[0])).save(image)
            self.samples[f"{name}_image"] = image

    def sample(self, name: str) -> str:
        return str(self.samples[name])
