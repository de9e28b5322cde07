"""The README's frame strip of a story: every frame of every scene, with continuity (top) and without (bottom).

    python benchmarks/story_strip.py [--story "..."] [--out benchmarks/figures/story_strip.png]

Seeded (the story's seed 0), so the figure is reproducible from the shipped weights. A white column
separates the scenes; with continuity each scene should start where the last one ended.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from t2v.models import load_pipeline
from t2v.pipelines import ContinuityConfig, MultiSceneAnimateDiffPipeline
from t2v.story import plan_story
from t2v.video import resize_frames

STORY = "A big red ball moves right on a black background. Then it bounces. Finally the ball grows."
GAP = 6  # pixels of white between scenes


def strip(clips: list[np.ndarray], cell: int) -> np.ndarray:
    gap = np.full((cell, GAP, 3), 255, dtype=np.uint8)
    parts = []
    for clip in clips:
        parts.extend([np.concatenate(list(resize_frames(np.rint(clip * 255).astype(np.uint8), cell)), axis=1), gap])
    return np.concatenate(parts[:-1], axis=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--story", default=STORY)
    parser.add_argument("--model", default="tiny-shapes")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/figures/story_strip.png"))
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--cell", type=int, default=48, help="pixels per frame in the figure")
    args = parser.parse_args(argv)

    pipe = MultiSceneAnimateDiffPipeline.from_pipe(load_pipeline(args.model))
    rows = []
    for continuity in (ContinuityConfig(), ContinuityConfig.off()):
        out = pipe(plan_story(args.story), num_inference_steps=args.steps, continuity=continuity)
        rows.append(strip(out.clips, args.cell))
    separator = np.full((GAP, rows[0].shape[1], 3), 255, dtype=np.uint8)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate([rows[0], separator, rows[1]], axis=0)).save(args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
