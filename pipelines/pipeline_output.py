"""Output classes of the t2v pipelines."""

from __future__ import annotations

from dataclasses import dataclass, field
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
        transitions: the generated bridges between consecutive scenes (with ``transitions=True``), in order.
    """

    frames: Any
    clips: list[Any] | list[Path]
    script: Any
    transitions: list[Any] | list[Path] = field(default_factory=list)


@dataclass
class TransitionPipelineOutput(BaseOutput):
    r"""Output of [`TransitionAnimateDiffPipeline`].

    Args:
        frames: the generated frames, batched like diffusers' video outputs (``"np"``: float
            ``(1, F, H, W, 3)`` in [0, 1]).
    """

    frames: Any


@dataclass
class EditPipelineOutput(BaseOutput):
    r"""Output of [`EditAnimateDiffPipeline`].

    Args:
        frames: the edited video in the requested ``output_type`` (``"np"``: float ``(1, F, H, W, 3)`` in [0, 1]).
        mask: the local-blend mask as a video, float ``(F, H, W)`` in [0, 1] (all ones when blending is off):
            where the edit was allowed to act.
        inversion_seconds: DDIM inversion (with recording) of the source, including encoding.
        null_text_seconds: null-text optimisation (0 when off), reported apart from the inversion.
        edit_seconds: the controlled sampling of the target.
        token_mode: ``"replace"`` or ``"refine"``, the Prompt-to-Prompt mode the token map used.
        source_words, target_words: the words whose maps made the mask.
    """

    frames: Any
    mask: Any
    inversion_seconds: float = 0.0
    null_text_seconds: float = 0.0
    edit_seconds: float = 0.0
    token_mode: str = ""
    source_words: list[str] | None = None
    target_words: list[str] | None = None
