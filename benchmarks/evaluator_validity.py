"""Does the evaluator tell a true caption from a subtly wrong one? And is each of its answers right?

For N random shapes-world scenes (fixed seed), the rendered clip is scored against its true
caption and against the caption of the same scene with one fact changed (a colour, shape, size,
motion, relation, background or count). The DSG score should separate the two: we report the
ROC AUC (rank based, ties counted half). Every question the world bridge can map to a world fact
is checked against ``facts.truth``, giving the oracle's accuracy per ETVA category. Speeds: rule-
based question generation (prompts/s) and oracle answering (videos/s at 64x64, 16 frames).

Run: ``.venv/bin/python benchmarks/evaluator_validity.py [--n 300] [--seed 0]``.
The last line printed is one JSON object with the headline numbers.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from dataclasses import replace

import numpy as np

from t2v.world.spec import BACKGROUNDS, COLORS, MOTIONS, RELATIONS, SHAPES, SIZES, WorldSpec

FACT_KINDS: tuple[str, ...] = ("color", "shape", "size", "motion", "relation", "background", "count")
TARGET_AUC = 0.98
TARGET_QUESTIONS_PER_S = 200.0
TARGET_VIDEOS_PER_S = 20.0


def roc_auc(positives: np.ndarray, negatives: np.ndarray) -> float:
    """Probability that a random positive scores above a random negative, ties counting one half
    (the Mann-Whitney U statistic over the product of the class sizes), from average ranks."""
    pos, neg = np.asarray(positives, dtype=np.float64), np.asarray(negatives, dtype=np.float64)
    if pos.size == 0 or neg.size == 0:
        raise ValueError("roc_auc needs at least one positive and one negative score")
    values = np.concatenate([pos, neg])
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    ranks = np.empty(values.size, dtype=np.float64)
    # Average 1-based rank over each run of equal values.
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    ends = np.r_[starts[1:], values.size]
    for start, end in zip(starts, ends, strict=True):
        ranks[order[start:end]] = (start + 1 + end) / 2.0
    u = ranks[: pos.size].sum() - pos.size * (pos.size + 1) / 2.0
    return float(u / (pos.size * neg.size))


def _other(rng: random.Random, pool, current):
    return rng.choice([v for v in pool if v != current])


def change_one_fact(spec: WorldSpec, rng: random.Random) -> tuple[str, WorldSpec]:
    """The scene with exactly one fact changed, and which kind of fact it was.

    Kinds that cannot apply to this scene (a relation without two objects, a background under a
    camera pan) are not drawn. A count changes only from one object to two alike: the caption of
    one of a pair ("a blue square" for two blue squares) is incomplete rather than false.
    """
    objects = list(spec.objects)
    identical = len(objects) == 2 and objects[0] == replace(objects[1], x=objects[0].x, y=objects[0].y)
    kinds = ["color", "shape", "size", "motion"]
    if spec.relation is not None:
        kinds.append("relation")
    if spec.camera == "static":
        kinds.append("background")
    if len(objects) == 1:
        kinds.append("count")
    kind = rng.choice(kinds)
    if kind == "relation":
        return kind, replace(spec, relation=_other(rng, RELATIONS, spec.relation))
    if kind == "background":
        return kind, replace(spec, background=_other(rng, list(BACKGROUNDS), spec.background))
    if kind == "count":
        return kind, replace(spec, objects=(objects[0], replace(objects[0])), relation=None)
    # "still" is never the changed motion: captions may leave it unsaid, and then nothing would be false.
    motions = tuple(m for m in MOTIONS if m != "still")
    pool = {"color": list(COLORS), "shape": SHAPES, "size": SIZES, "motion": motions}[kind]
    if identical:
        # Change the pair together, so the caption still speaks of two alike shapes.
        value = _other(rng, pool, getattr(objects[0], kind))
        return kind, replace(spec, objects=tuple(replace(o, **{kind: value}) for o in objects))
    index = rng.randrange(len(objects))
    target = objects[index]
    objects[index] = replace(target, **{kind: _other(rng, pool, getattr(target, kind))})
    return kind, replace(spec, objects=tuple(objects))


def _prompt(spec: WorldSpec, rng: random.Random, paraphrase: bool) -> str:
    from t2v.world.captions import canonical_caption, captions

    return captions(spec, rng, n=1)[0] if paraphrase else canonical_caption(spec)


def _score(questions, answers) -> tuple[float, float]:
    from t2v.eval.scoring import score_video

    if not questions:
        return 0.0, 0.0  # nothing the evaluator can vouch for
    scores = score_video(questions, answers)
    if scores.dsg is None or scores.yes_rate is None:
        return 0.0, 0.0  # nothing answered: likewise
    return scores.dsg, scores.yes_rate


def _mapped_only(questions, answers, keep: set[int]) -> tuple[list, list]:
    """The questions (and answers) the world bridge maps, parents outside the set dropped."""
    pairs = [(replace(q, parents=[p for p in q.parents if p in keep]), a)
             for q, a in zip(questions, answers, strict=True) if q.id in keep]
    return [q for q, _ in pairs], [a for _, a in pairs]


def run(n: int, seed: int) -> dict:
    from t2v.eval.answerers import OracleAnswerer
    from t2v.eval.questions import RuleBasedQuestionGenerator
    from t2v.eval.world_bridge import to_world_question
    from t2v.world.facts import truth
    from t2v.world.render import render
    from t2v.world.sampling import sample_spec

    rng = random.Random(seed)
    cases = []  # (spec, true prompt, changed kind, changed prompt, paraphrased?)
    for _ in range(n):
        spec = sample_spec(rng)
        kind, changed = change_one_fact(spec, rng)
        paraphrase = rng.random() < 0.5
        cases.append((spec, _prompt(spec, rng, paraphrase), kind, _prompt(changed, rng, paraphrase), paraphrase))

    generator = RuleBasedQuestionGenerator()
    generator.generate("a red circle on a black background")  # load the parser outside the timing
    prompts = [p for c in cases for p in (c[1], c[3])]
    start = time.perf_counter()
    generated = [generator.generate(p) for p in prompts]
    questions_per_s = len(prompts) / (time.perf_counter() - start)
    start = time.perf_counter()
    generator.generate_batch(prompts)
    batch_questions_per_s = len(prompts) / (time.perf_counter() - start)

    start = time.perf_counter()
    videos = [render(c[0]) for c in cases]
    render_s = time.perf_counter() - start

    answerer = OracleAnswerer()
    answerer.answer(videos[0], generated[0][1], prompt=prompts[0], graph=generated[0][0])  # warm-up
    true_dsg, changed_dsg, true_yes, changed_yes = [], [], [], []
    mapped_dsg: dict[str, list[float]] = {"true": [], "changed": []}
    correct: Counter[str] = Counter()
    asked: Counter[str] = Counter()
    unmapped: Counter[str] = Counter()
    gaps: dict[str, list[float]] = {}
    empty = 0
    answer_s = 0.0
    for i, (spec, _, kind, _, _) in enumerate(cases):
        dsg_pair = []
        for j, target in ((2 * i, "true"), (2 * i + 1, "changed")):
            graph, questions = generated[j]
            start = time.perf_counter()
            answers = answerer.answer(videos[i], questions, prompt=prompts[j], graph=graph) if questions else []
            answer_s += time.perf_counter() - start
            empty += not questions
            dsg, yes = _score(questions, answers)
            (true_dsg if target == "true" else changed_dsg).append(dsg)
            (true_yes if target == "true" else changed_yes).append(yes)
            dsg_pair.append(dsg)
            keep: set[int] = set()
            for q, a in zip(questions, answers, strict=True):
                world_q = to_world_question(q, graph, num_frames=spec.frames)
                if world_q is None:
                    unmapped[q.category] += 1
                    continue
                keep.add(q.id)
                asked[q.category] += 1
                correct[q.category] += a.yes == truth(spec, world_q)
            mapped_dsg[target].append(_score(*_mapped_only(questions, answers, keep))[0])
        gaps.setdefault(kind, []).append(dsg_pair[0] - dsg_pair[1])
    videos_per_s = 2 * n / answer_s

    true_arr, changed_arr = np.array(true_dsg), np.array(changed_dsg)
    auc = roc_auc(true_arr, changed_arr)
    para = np.array([c[4] for c in cases])
    by_phrasing = {name: roc_auc(true_arr[mask], changed_arr[mask])
                   for name, mask in (("canonical", ~para), ("paraphrase", para)) if mask.any()}
    return {
        "n": n,
        "auc": auc,
        "auc_yes_rate": roc_auc(np.array(true_yes), np.array(changed_yes)),
        "auc_by_phrasing": by_phrasing,
        "auc_mapped_questions_only": roc_auc(np.array(mapped_dsg["true"]), np.array(mapped_dsg["changed"])),
        "mean_dsg_true_by_phrasing": {"canonical": float(true_arr[~para].mean()) if (~para).any() else None,
                                      "paraphrase": float(true_arr[para].mean()) if para.any() else None},
        "mean_dsg_true": float(np.mean(true_dsg)),
        "mean_dsg_changed": float(np.mean(changed_dsg)),
        "pairs_true_above_changed": float(np.mean(np.array(true_dsg) > np.array(changed_dsg))),
        "mean_gap_by_changed_fact": {k: float(np.mean(v)) for k, v in sorted(gaps.items())},
        "changed_facts": {k: len(v) for k, v in sorted(gaps.items())},
        "per_category_accuracy": {c: correct[c] / asked[c] for c in sorted(asked)},
        "per_category_questions": dict(sorted(asked.items())),
        "unmapped_questions": dict(sorted(unmapped.items())),
        "prompts_without_questions": empty,
        "questions_per_s": questions_per_s,
        "batch_questions_per_s": batch_questions_per_s,
        "videos_per_s": videos_per_s,
        "render_videos_per_s": n / render_s,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=300, help="number of rendered scenes (default 300)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the scene sampler")
    args = parser.parse_args(argv)
    if args.n < 2:
        parser.error("--n must be at least 2")
    r = run(args.n, args.seed)
    print(f"{r['n']} rendered scenes, each scored against its caption and a one-fact-changed caption")
    print(f"DSG ROC AUC        {r['auc']:.4f}  (target >= {TARGET_AUC}; yes-rate AUC {r['auc_yes_rate']:.4f})")
    print("AUC by phrasing    " + ", ".join(f"{k} {v:.4f}" for k, v in r["auc_by_phrasing"].items()))
    print(f"AUC if questions the bridge cannot map were dropped: {r['auc_mapped_questions_only']:.4f}")
    print(f"mean DSG           true {r['mean_dsg_true']:.3f}   changed {r['mean_dsg_changed']:.3f}   "
          f"pairs ranked right {r['pairs_true_above_changed']:.3f}")
    print("DSG gap by changed fact: " + ", ".join(
        f"{k} {v:.3f} (n={r['changed_facts'][k]})" for k, v in r["mean_gap_by_changed_fact"].items()))
    print("oracle accuracy per category (questions the bridge maps, vs facts.truth):")
    for c, acc in r["per_category_accuracy"].items():
        print(f"  {c:<10} {acc:.4f}  ({r['per_category_questions'][c]} questions)")
    if r["unmapped_questions"]:
        print(f"questions the bridge does not map: {r['unmapped_questions']}")
    if r["prompts_without_questions"]:
        print(f"prompts with no questions: {r['prompts_without_questions']}")
    print(f"question generation {r['questions_per_s']:.0f} prompts/s one by one, "
          f"{r['batch_questions_per_s']:.0f} prompts/s batched (target >= {TARGET_QUESTIONS_PER_S:.0f})")
    print(f"oracle answering    {r['videos_per_s']:.1f} videos/s at 64x64x16 (target >= {TARGET_VIDEOS_PER_S:.0f}); "
          f"rendering {r['render_videos_per_s']:.1f} videos/s")
    headline = {k: r[k] for k in ("auc", "per_category_accuracy", "questions_per_s", "videos_per_s",
                                  "batch_questions_per_s")}
    print(json.dumps(headline))
    return 0


if __name__ == "__main__":
    sys.exit(main())
