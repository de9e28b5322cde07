"""Rendered training-split clips and their canonical prompts, as the data file reward fine-tuning edits
(``video_source: data``): perfect videos of scenes the model trained on, no held-out combination.

    python -m t2v.rewards.shapes_alignment.clips --out runs/shapes_train_clips_2000.safetensors [--clips 2000]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

from t2v.world.captions import canonical_caption
from t2v.world.render import render

from ..prompts import training_specs


def write_training_clips(out: str | Path, clips: int, *, frames: int = 8, size: int = 32) -> Path:
    """Render ``clips`` training-split scenes to ``out`` (uint8 ``clips`` and a ``prompts`` metadata list)."""
    if clips < 1:
        raise ValueError(f"clips must be >= 1, got {clips}")
    specs = training_specs(clips, frames=frames, size=size)
    videos = [render(spec) for spec in specs]
    prompts = [canonical_caption(spec) for spec in specs]
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".tmp")
    save_file({"clips": torch.from_numpy(np.stack(videos))}, str(partial), metadata={"prompts": json.dumps(prompts)})
    partial.replace(out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="safetensors file to write")
    parser.add_argument("--clips", type=int, default=2000, help="number of clips (default 2000, what the shipped "
                        "config edits)")
    args = parser.parse_args(argv)
    print(f"wrote {write_training_clips(args.out, args.clips)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
