"""Quality of the embedded tiny-shapes model, judged by the shapes-world oracle.

Prompts: random scenes in which at least one object uses an attribute combination held out
of training (``t2v.world.holdout``: three (colour, shape) and three (colour, motion) pairs that
no training clip contains). Each prompt is generated once and every atomic fact of its scene
(``spec_facts``) is asked of the oracle. The same facts asked of the *rendered* scene give the
oracle's ceiling on these clips, printed alongside, and the same facts asked of the model's VAE
reconstructions of those rendered clips give the ceiling of anything decoded by that VAE
(``vae_ceiling``). A second pass uses paraphrases that contain
synonyms never used in training captions (``vocabulary="heldout"``).

    python benchmarks/tiny_shapes_quality.py [--n 200] [--steps 25] [--model tiny-shapes]

Two readings of the same answers are printed. ``strict`` asks the facts exactly as
``spec_facts`` words them, where an attribute question names the object by another attribute
("is the square yellow?"), so a wrong shape also fails the colour question. ``isolated`` asks each
attribute of a one-object scene of "the object" ("is the object yellow?"), so each category
measures that attribute alone; it is the headline figure.

The last line is one JSON object: per-category accuracy and "overall" (isolated) for canonical
prompts, the same under "paraphrased", the strict figures under "strict", and the two ceilings.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import defaultdict
from dataclasses import replace

import numpy as np

from t2v.generation import generate, model_defaults
from t2v.models import load_pipeline
from t2v.world.captions import canonical_caption, captions
from t2v.world.decoder_finetune import reconstruct
from t2v.world.facts import ObjectRef, Question, spec_facts
from t2v.world.holdout import spec_is_heldout
from t2v.world.oracle import ShapesOracle
from t2v.world.reading import SceneReading
from t2v.world.render import render
from t2v.world.sampling import sample_spec


def heldout_specs(n: int, seed: int, frames: int, size: int, two_objects: float):
    rng = random.Random(seed)
    specs = []
    while len(specs) < n:
        spec = sample_spec(rng, frames=frames, size=size, two_objects=two_objects)
        if spec_is_heldout(spec):
            specs.append(spec)
    return specs


def isolated_facts(spec) -> list[Question]:
    """The spec's facts with one-object attribute questions asked of "the object"."""
    facts = spec_facts(spec)
    if len(spec.objects) != 1:
        return facts
    return [replace(q, subject=ObjectRef()) if q.kind in ("color", "shape", "size", "motion") else q for q in facts]


def score(oracle: ShapesOracle, clip: np.ndarray | SceneReading, facts) -> dict[str, list[bool]]:
    """Hits per fact kind; ``clip`` is frames or the oracle's reading of them (read once, asked twice)."""
    by_kind: dict[str, list[bool]] = defaultdict(list)
    for fact, answer in zip(facts, oracle.answer_many(clip, facts), strict=True):
        by_kind[fact.kind].append(bool(answer.yes))
    return by_kind


def summarise(results: list[dict[str, list[bool]]]) -> dict[str, float]:
    pooled: dict[str, list[bool]] = defaultdict(list)
    for per_video in results:
        for kind, hits in per_video.items():
            pooled[kind].extend(hits)
    summary = {kind: round(float(np.mean(hits)), 4) for kind, hits in sorted(pooled.items())}
    summary["overall"] = round(float(np.mean([h for hits in pooled.values() for h in hits])), 4)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200, help="number of prompts (>= 200 for the reported figure)")
    parser.add_argument("--steps", type=int, default=25, help="denoising steps")
    parser.add_argument("--guidance", type=float, default=None, help="guidance scale (default: the model's)")
    parser.add_argument("--negative-prompt", default=None, help="negative prompt for guidance (default: none)")
    parser.add_argument("--model", default="tiny-shapes", help="model name or folder")
    parser.add_argument("--two-objects", type=float, default=0.0, help="fraction of two-object prompts")
    parser.add_argument("--seed", type=int, default=1234, help="seed of the prompt set")
    parser.add_argument("--no-paraphrase", action="store_true", help="skip the paraphrased pass")
    args = parser.parse_args(argv)

    pipe = load_pipeline(args.model)
    pipe.set_progress_bar_config(disable=True)  # hundreds of videos: the per-video bar would bury the figures
    defaults = model_defaults(pipe)
    specs = heldout_specs(args.n, args.seed, int(defaults["frames"]), int(defaults["size"]), args.two_objects)
    oracle = ShapesOracle()
    rng = random.Random(args.seed + 1)
    passes = {"canonical": [canonical_caption(s) for s in specs]}
    if not args.no_paraphrase:
        passes["paraphrased"] = [captions(s, rng, n=1, vocabulary="heldout")[0] for s in specs]

    rendered = [render(s) for s in specs]
    ceiling = summarise([score(oracle, clip, spec_facts(s)) for s, clip in zip(specs, rendered, strict=True)])
    print(f"oracle on rendered clips of these scenes: {ceiling}")
    vae_ceiling = summarise([score(oracle, reconstruct(pipe.vae, clip), isolated_facts(s))
                             for s, clip in zip(specs, rendered, strict=True)])
    print(f"oracle on the VAE's reconstructions of them (isolated): {vae_ceiling}")
    report: dict[str, dict[str, float]] = {}
    strict: dict[str, dict[str, float]] = {}
    for name, prompts in passes.items():
        start = time.time()
        isolated_results, strict_results = [], []
        for i, (spec, prompt) in enumerate(zip(specs, prompts, strict=True)):
            frames, _ = generate(pipe, prompt, seed=i, num_inference_steps=args.steps, guidance_scale=args.guidance,
                                 negative_prompt=args.negative_prompt)
            reading = oracle.analyse(frames)
            isolated_results.append(score(oracle, reading, isolated_facts(spec)))
            strict_results.append(score(oracle, reading, spec_facts(spec)))
        report[name], strict[name] = summarise(isolated_results), summarise(strict_results)
        print(f"{name} isolated: {report[name]}", file=sys.stderr)
        print(f"{name} strict: {strict[name]} ({len(specs)} videos, {time.time() - start:.0f} s)", file=sys.stderr)
    final = dict(report["canonical"])
    if "paraphrased" in report:
        final["paraphrased"] = report["paraphrased"]
    final["strict"] = strict
    final["oracle_ceiling"] = ceiling
    final["vae_ceiling"] = vae_ceiling
    print(json.dumps(final))
    return 0


if __name__ == "__main__":
    sys.exit(main())
