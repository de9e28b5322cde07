"""The README's sample grid of the embedded model: one prompt a row, one frame a column.

    python benchmarks/tiny_shapes_samples.py [--out benchmarks/figures/tiny_shapes_samples.png]

Seeded, so the figure is reproducible from the shipped weights. With ``--reference`` each row
also shows the rendered clip of the prompt's scene, to compare motion and shape by eye.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from t2v.generation import generate, model_defaults
from t2v.models import load_pipeline
from t2v.video import resize_frames
from t2v.world.parser import parse_caption
from t2v.world.render import render

PROMPTS = (
    "a big red circle moving right on a black background",
    "a small green square moving up on a black background",
    "a big blue triangle bouncing on a white background",
    "a big yellow circle growing on a gray background",
    "a small purple square moving left on a gray background",
    "a big orange triangle shrinking on a white background",
)


def reference_clip(prompt: str, frames: int, size: int) -> np.ndarray:
    """The rendered scene of ``prompt`` (the parser lays objects out at canonical start positions)."""
    return render(parse_caption(prompt, frames=frames, size=size))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="tiny-shapes", help="model name or folder")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/figures/tiny_shapes_samples.png"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--cell", type=int, default=64, help="pixels per frame in the figure")
    parser.add_argument("--reference", action="store_true", help="append the rendered clip of each prompt")
    args = parser.parse_args(argv)

    pipe = load_pipeline(args.model)
    defaults = model_defaults(pipe)
    rows = []
    for prompt in PROMPTS:
        frames, _ = generate(pipe, prompt, seed=args.seed, num_inference_steps=args.steps)
        strips = [frames]
        if args.reference:
            strips.append(reference_clip(prompt, int(defaults["frames"]), int(defaults["size"])))
        rows.append(np.concatenate([np.concatenate(list(resize_frames(s, args.cell)), axis=1) for s in strips], 1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate(rows, axis=0)).save(args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
