"""Perception of the shapes world: everything that reads pixels of a clip lives here.

The rule: :mod:`t2v.world` makes clips (spec, render, sampling, captions, facts); this package
reads them (pixels, background, blobs, tracking, attributes, shape fits) and answers questions
about them (:class:`ShapesOracle`). Nothing here imports a model.
"""

from .reading import ObjectReading, SceneReading
from .shapes_oracle import OracleAnswer, OracleSettings, ShapesOracle

__all__ = ["ObjectReading", "OracleAnswer", "OracleSettings", "SceneReading", "ShapesOracle"]
