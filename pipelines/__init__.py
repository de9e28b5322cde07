"""t2v's diffusers pipelines (imported as ``t2v.pipelines``), one file per capability."""

from .pipeline_t2v_animatediff import T2VAnimateDiffPipeline

__all__ = ["T2VAnimateDiffPipeline"]
