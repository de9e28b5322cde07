"""``python -m t2v.training.tiny_shapes``: train the embedded model (see :mod:`.train`)."""

from .train import main

main()
