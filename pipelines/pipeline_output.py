"""Output classes of the t2v pipelines."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from diffusers.utils import BaseOutput


@dataclass
class MultiScenePipelineOutput(BaseOutput):
    r"""Output of [`MultiSceneAnimateDiffPipeline`].

    Args:
        frames: the joined video of every scene in order, in the requested ``output_type`` (``"np"``: float
            ``(1, T, H, W, 3)`` in [0, 1]); None when the clips went to a folder.
        clips: each scene's clip in the same type, or the paths it was written to.
        script: the script as generated: per-scene seeds, self-check scores and tries filled in.
    """

    frames: Any
    clips: list[Any] | list[Path]
    script: Any


@dataclass
class TransitionPipelineOutput(BaseOutput):
    r"""Output of [`TransitionAnimateDiffPipeline`].

    Args:
        frames: the generated frames, batched like diffusers' video outputs (``"np"``: float
            ``(1, F, H, W, 3)`` in [0, 1]).
    """

    frames: Any
