"""Video editing: inversion of video latents (and, later, attention control)."""
