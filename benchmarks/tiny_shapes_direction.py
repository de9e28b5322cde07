"""Does the caption steer which way a tiny-shapes object moves? (``t2v.training.tiny_shapes.steering``)

The quality benchmark finds motion often reversed (up for down, right for left). This measures
the cause in a minute or two: rendered one-object clips moving left, right, up or down are
noised to a timestep and denoised once under their caption and once under the antonym caption
(the direction word reversed: the baseline). ``steer`` = (drift under the caption - drift under
the antonym) / (2 x true drift): 1 when the words decide the direction, 0 when only the motion
already visible in the noise does. The last line is one JSON object: drifts and steer per
timestep, and the mean steer.

    python benchmarks/tiny_shapes_direction.py [--model tiny-shapes] [--n 32]
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from t2v.generation import model_defaults
from t2v.models import load_pipeline
from t2v.training.tiny_shapes.steering import directional_specs, measure_steering


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="tiny-shapes", help="model name or folder")
    parser.add_argument("--n", type=int, default=32, help="number of clips")
    parser.add_argument("--seed", type=int, default=5, help="seed of the scenes and the noise")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be >= 1")
    pipe = load_pipeline(args.model)
    defaults = model_defaults(pipe)
    specs = directional_specs(args.n, args.seed, int(defaults["frames"]), int(defaults["size"]))
    report = measure_steering(pipe, specs, seed=args.seed)
    for name, row in report.items():
        print(f"{name}: {row}", file=sys.stderr)
    report["steer"] = round(float(np.mean([row["steer"] for row in report.values()])), 4)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
