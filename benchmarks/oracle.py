"""How often is the shapes-world oracle right? It is the ground truth of every quality benchmark.

For N random rendered scenes (fixed seed) the oracle answers every true fact of the scene
(``facts.spec_facts``, should be "yes") and one falsification of each (``facts.falsify``, should
be "no"), on the clean clip and on a degraded copy (Gaussian blur sigma 1.5 px, then Gaussian
noise sigma 0.08 on the [0, 1] scale). Sampler: ``sample_spec(rng, frames=16, size=64,
two_objects=0.5, identical_pair=0.15, camera_pan=0.2)``; a share of the scenes (``--hard``,
default 0.3) is drawn with ``edge_margin=0.05, gap=-0.03``: shapes poking out of the frame and
touching or slightly overlapping. Targets: clean >= 0.99, degraded >= 0.95, >= 20 videos/s.

Run: ``.venv/bin/python benchmarks/oracle.py [--n 500] [--seed 0] [--hard 0.3] [--failures 0]``.
The last line printed is one JSON object with the headline accuracies.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import defaultdict

import numpy as np
from scipy import ndimage

from t2v.world.facts import Question, falsify, spec_facts
from t2v.world.oracle import ShapesOracle
from t2v.world.render import render
from t2v.world.sampling import sample_spec

TARGET_CLEAN, TARGET_NOISY, TARGET_VIDEOS_PER_S = 0.99, 0.95, 20.0
SAMPLER = {"frames": 16, "size": 64, "two_objects": 0.5, "identical_pair": 0.15, "camera_pan": 0.2}
HARD = {"edge_margin": 0.05, "gap": -0.03}


def degrade(
    frames: np.ndarray, rng: np.random.Generator, blur: float = 1.5, noise: float = 0.08
) -> np.ndarray:
    """Blur each frame (sigma in pixels), add Gaussian noise on the [0, 1] scale, clip."""
    x = frames.astype(np.float32) / 255.0
    x = ndimage.gaussian_filter(x, (0.0, blur, blur, 0.0))
    x = x + rng.normal(0.0, noise, x.shape).astype(np.float32)
    return np.clip(x, 0.0, 1.0)


def kind_of(q: Question) -> str:
    return q.kind + ("@frames" if q.frames is not None else "")


def run(n: int, seed: int, hard_share: float, show_failures: int) -> dict[str, float]:
    rng = random.Random(seed)
    noise_rng = np.random.default_rng(seed)
    oracle = ShapesOracle()
    tally: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])  # (condition, kind, truth)
    failures: list[str] = []
    answer_time, answered_videos = 0.0, 0
    for i in range(n):
        hard = rng.random() < hard_share
        spec = sample_spec(rng, **SAMPLER, **(HARD if hard else {}))
        facts = spec_facts(spec)
        lies = [f for f in (falsify(spec, q, rng) for q in facts) if f is not None]
        questions = facts + lies
        expected = [True] * len(facts) + [False] * len(lies)
        clean = render(spec)
        for condition, frames in (("clean", clean), ("noisy", degrade(clean, noise_rng))):
            start = time.perf_counter()
            answers = oracle.answer_many(frames, questions)
            if condition == "clean":
                answer_time += time.perf_counter() - start
                answered_videos += 1
            for q, want, got in zip(questions, expected, answers, strict=True):
                key = (condition, kind_of(q), "yes" if want else "no")
                tally[key][0] += int(got.yes == want)
                tally[key][1] += 1
                if got.yes != want and len(failures) < show_failures:
                    failures.append(
                        f"[{condition}{' hard' if hard else ''}] spec {i}: {q.text()} expected "
                        f"{'yes' if want else 'no'} (conf {got.confidence:.2f})\n    {spec.to_json()}"
                    )
    headline = {}
    for condition in ("clean", "noisy"):
        print(f"\n{condition} (accuracy, count) by question kind:")
        kinds = sorted({k for c, k, _ in tally if c == condition})
        for kind in kinds:
            cells = []
            for truth in ("yes", "no"):
                right, total = tally.get((condition, kind, truth), [0, 0])
                cells.append(f"{truth}: {right / total:.4f} ({total})" if total else f"{truth}: -")
            print(f"  {kind:<16} " + "   ".join(cells))
        for truth in ("yes", "no"):
            right = sum(v[0] for (c, _, t), v in tally.items() if c == condition and t == truth)
            total = sum(v[1] for (c, _, t), v in tally.items() if c == condition and t == truth)
            headline[f"{condition}_{truth}"] = round(right / max(total, 1), 4)
            print(f"  all {truth:<12} {right / max(total, 1):.4f} ({total})")
    speed = answered_videos / max(answer_time, 1e-9)
    print(f"\nspeed: {speed:.1f} videos/s answering all facts at 64x64x16 (target >= {TARGET_VIDEOS_PER_S})")
    ok = (
        min(headline["clean_yes"], headline["clean_no"]) >= TARGET_CLEAN
        and min(headline["noisy_yes"], headline["noisy_no"]) >= TARGET_NOISY
        and speed >= TARGET_VIDEOS_PER_S
    )
    print(f"targets (clean >= {TARGET_CLEAN}, noisy >= {TARGET_NOISY}, speed): {'met' if ok else 'NOT met'}")
    for line in failures:
        print(line)
    return headline


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=500, help="number of random scenes (default 500)")
    parser.add_argument("--seed", type=int, default=0, help="sampler seed (default 0)")
    parser.add_argument(
        "--hard", type=float, default=0.3, help="share of scenes with edge poking and touching"
    )
    parser.add_argument("--failures", type=int, default=0, help="print up to this many wrong answers")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be at least 1")
    if not 0.0 <= args.hard <= 1.0:
        parser.error("--hard must be in [0, 1]")
    headline = run(args.n, args.seed, args.hard, args.failures)
    print(json.dumps(headline))
    return 0


if __name__ == "__main__":
    sys.exit(main())
