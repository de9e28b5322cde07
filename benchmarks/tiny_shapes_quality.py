"""Quality of the embedded tiny-shapes model, judged by the shapes-world oracle.

Prompts: random scenes in which at least one object uses an attribute combination held out
of training (``t2v.world.holdout``: three (colour, shape) and three (colour, motion) pairs that
no training clip contains), from one split of :mod:`t2v.world.splits`: ``test`` (the default, for
reporting; nothing is tuned on it) or the dev sets ``dev`` / ``dev-b`` (for sweeps and choices). Each
prompt is generated once and every atomic fact of its scene (``spec_facts``) is asked of the oracle.
The same facts asked of the *rendered* scene give the oracle's ceiling on these clips, printed
alongside, and the same facts asked of the model's VAE reconstructions of those rendered clips give
the ceiling of anything decoded by that VAE (``vae_ceiling``). A second pass uses paraphrases that
contain synonyms never used in training captions (``vocabulary="heldout"``).

    python benchmarks/tiny_shapes_quality.py [--split test|dev|dev-b] [--n 200] [--steps 25] [--model tiny-shapes]

Two readings of the same answers. The headline, **strict**, asks the facts exactly as ``spec_facts``
words them: an attribute question names the object by its other attributes ("is the square
yellow?"), so a wrong shape also fails the colour question and a stray blob cannot pass a question
meant for the prompt's object. ``isolated`` (secondary) asks each attribute of a one-object scene of
"the object" ("is the object yellow?"), so each category measures that attribute alone.

The last line is one JSON object: the split, per-category strict accuracy and ``overall`` (strict)
for canonical prompts; ``isolated`` for the same answers; ``paraphrased`` (strict) and
``paraphrased_isolated``; and the ceilings, strict and isolated.
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
from t2v.training.common import reconstruct
from t2v.world.captions import canonical_caption, captions
from t2v.world.facts import ObjectRef, Question, spec_facts
from t2v.world.oracle import ShapesOracle
from t2v.world.oracle.reading import SceneReading
from t2v.world.render import render
from t2v.world.splits import DEV_SEEDS, SPLITS, noise_seed, split_specs


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


def dev_overlap(specs, frames: int, size: int, two_objects: float) -> float:
    """Share of ``specs`` whose canonical prompt a dev set of the same size also asks."""
    dev = {canonical_caption(s) for split in DEV_SEEDS
           for s in split_specs(split, len(specs), frames=frames, size=size, two_objects=two_objects)}
    return round(float(np.mean([canonical_caption(s) in dev for s in specs])), 4)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", choices=SPLITS, default="test",
                        help="prompt split: test (report) or a dev set (sweeps); default test")
    parser.add_argument("--n", type=int, default=200, help="number of prompts (>= 200 for the reported figure)")
    parser.add_argument("--steps", type=int, default=25, help="denoising steps")
    parser.add_argument("--guidance", type=float, default=None, help="guidance scale (default: the model's)")
    parser.add_argument("--negative-prompt", default=None, help="negative prompt for guidance (default: none)")
    parser.add_argument("--model", default="tiny-shapes", help="model name or folder")
    parser.add_argument("--two-objects", type=float, default=0.0, help="fraction of two-object prompts")
    parser.add_argument("--no-paraphrase", action="store_true", help="skip the paraphrased pass")
    args = parser.parse_args(argv)

    pipe = load_pipeline(args.model)
    pipe.set_progress_bar_config(disable=True)  # hundreds of videos: the per-video bar would bury the figures
    defaults = model_defaults(pipe)
    frames, size = int(defaults["frames"]), int(defaults["size"])
    specs = split_specs(args.split, args.n, frames=frames, size=size, two_objects=args.two_objects)
    oracle = ShapesOracle()
    rng = random.Random(noise_seed(args.split, 0) + 1)
    passes = {"canonical": [canonical_caption(s) for s in specs]}
    if not args.no_paraphrase:
        passes["paraphrased"] = [captions(s, rng, n=1, vocabulary="heldout")[0] for s in specs]

    rendered = [render(s) for s in specs]
    ceiling = summarise([score(oracle, clip, spec_facts(s)) for s, clip in zip(specs, rendered, strict=True)])
    print(f"oracle on rendered clips of these scenes (strict): {ceiling}")
    readings = [oracle.analyse(reconstruct(pipe.vae, clip)) for clip in rendered]
    vae_ceiling = summarise([score(oracle, r, spec_facts(s)) for s, r in zip(specs, readings, strict=True)])
    vae_isolated = summarise([score(oracle, r, isolated_facts(s)) for s, r in zip(specs, readings, strict=True)])
    print(f"oracle on the VAE's reconstructions of them: strict {vae_ceiling}, isolated {vae_isolated}")
    strict: dict[str, dict[str, float]] = {}
    isolated: dict[str, dict[str, float]] = {}
    for name, prompts in passes.items():
        start = time.time()
        isolated_results, strict_results = [], []
        for i, (spec, prompt) in enumerate(zip(specs, prompts, strict=True)):
            frames_out, _ = generate(pipe, prompt, seed=noise_seed(args.split, i), num_inference_steps=args.steps,
                                     guidance_scale=args.guidance, negative_prompt=args.negative_prompt)
            reading = oracle.analyse(frames_out)
            isolated_results.append(score(oracle, reading, isolated_facts(spec)))
            strict_results.append(score(oracle, reading, spec_facts(spec)))
        strict[name], isolated[name] = summarise(strict_results), summarise(isolated_results)
        print(f"{name} strict: {strict[name]}", file=sys.stderr)
        print(f"{name} isolated: {isolated[name]} ({len(specs)} videos, {time.time() - start:.0f} s)", file=sys.stderr)
    final: dict = {"split": args.split, "n": args.n, "steps": args.steps, **strict["canonical"],
                   "isolated": isolated["canonical"]}
    if "paraphrased" in strict:
        final["paraphrased"] = strict["paraphrased"]
        final["paraphrased_isolated"] = isolated["paraphrased"]
    final["oracle_ceiling"] = ceiling
    final["vae_ceiling"] = vae_ceiling
    final["vae_ceiling_isolated"] = vae_isolated
    if args.split == "test":
        final["prompts_worded_as_in_dev"] = dev_overlap(specs, frames, size, args.two_objects)
    print(json.dumps(final))
    return 0


if __name__ == "__main__":
    sys.exit(main())
