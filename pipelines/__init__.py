"""t2v's diffusers pipelines (imported as ``t2v.pipelines``), one file per capability."""

from .capabilities import pipeline_for
from .continuity import ContinuityConfig
from .pipeline_edit import EditAnimateDiffPipeline
from .pipeline_multiscene import MultiSceneAnimateDiffPipeline, MultiSceneWanPipeline
from .pipeline_output import MultiScenePipelineOutput, TransitionPipelineOutput
from .pipeline_t2v_animatediff import T2VAnimateDiffPipeline
from .pipeline_t2v_wan import T2VWanPipeline
from .pipeline_transition import TransitionAnimateDiffPipeline, TransitionWanPipeline

__all__ = ["ContinuityConfig", "MultiSceneAnimateDiffPipeline", "MultiScenePipelineOutput", "T2VAnimateDiffPipeline",
           "TransitionAnimateDiffPipeline", "TransitionPipelineOutput"]
__all__ += ["pipeline_for", "EditAnimateDiffPipeline", "MultiSceneWanPipeline", "T2VWanPipeline",
            "TransitionWanPipeline"]
