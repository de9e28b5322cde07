"""Models: the embedded ``tiny-shapes`` (architecture, folder format) and loading of any supported model."""

from .loading import load_pipeline
from .tiny_shapes import TINY_SHAPES, model_card, save_tiny_shapes_format, tiny_shapes_path

__all__ = ["TINY_SHAPES", "load_pipeline", "model_card", "save_tiny_shapes_format", "tiny_shapes_path"]
