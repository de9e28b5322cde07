"""Training of the embedded ``tiny-shapes`` model, one module per stage; :mod:`.train` runs them in order."""
