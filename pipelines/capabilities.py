"""Which t2v pipeline class gives a capability on a loaded model, and a one-line refusal where none does.

The technique classes come in pairs over the backbone seam (AnimateDiff, Wan text-to-video). Wan's image-
and VACE-conditioned pipelines have native ways of their own (:mod:`t2v.pipelines.wan_native`), not these;
attention-controlled editing needs a UNet's separate spatial and temporal attention layers and one batched
guidance pass, which Wan's joint spatio-temporal attention and separate guidance passes do not have.
"""

from __future__ import annotations

from .pipeline_edit import EditAnimateDiffPipeline
from .pipeline_multiscene import MultiSceneAnimateDiffPipeline, MultiSceneWanPipeline
from .pipeline_t2v_wan import T2VWanPipeline
from .pipeline_transition import TransitionAnimateDiffPipeline, TransitionWanPipeline

CAPABILITIES = {
    "story": (MultiSceneAnimateDiffPipeline, MultiSceneWanPipeline),
    "transition": (TransitionAnimateDiffPipeline, TransitionWanPipeline),
    "edit": (EditAnimateDiffPipeline, None),
}
REFUSALS = {
    "edit": "attention-controlled editing needs a UNet (AnimateDiff) model: Wan's joint spatio-temporal attention "
            "and separate guidance passes have no per-frame self-attention to share; on Wan use a VACE model's "
            "reference edit (t2v.pipelines.wan_native)",
}


def pipeline_for(pipe, capability: str):
    """``pipe`` as the t2v pipeline of ``capability`` (``from_pipe``: no weights copied), or a ValueError in one
    line that says why this model cannot."""
    if capability not in CAPABILITIES:
        raise ValueError(f"capability must be one of {sorted(CAPABILITIES)}, got {capability!r}")
    unet_class, wan_class = CAPABILITIES[capability]
    if getattr(pipe, "unet", None) is not None:
        return pipe if isinstance(pipe, unet_class) else unet_class.from_pipe(pipe)
    name = type(pipe).__name__
    if not isinstance(pipe, T2VWanPipeline) and name != "WanPipeline":
        raise ValueError(f"{capability}: {name} is not a text-to-video model this verb can drive (AnimateDiff or a "
                         "Wan T2V/T2V-A14B/TI2V model)")
    if wan_class is None:
        raise ValueError(f"{capability} is not supported on Wan: {REFUSALS[capability]}")
    return pipe if isinstance(pipe, wan_class) else wan_class.from_pipe(pipe)
