"""The default reward: a small network that reads shapes-world frames, trained on rendered and
VAE-reconstructed frames of the training split only (see :mod:`.fit`)."""

from .motion import ShapesMotionReward
from .reward import ShapesAlignmentReward

__all__ = ["ShapesAlignmentReward", "ShapesMotionReward"]
