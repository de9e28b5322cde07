"""Training: shared pieces (:mod:`.common`, :mod:`.checkpoint`) and the embedded model's stages
(:mod:`.tiny_shapes`). Trainers take their judges from the caller; nothing here imports the oracle."""
