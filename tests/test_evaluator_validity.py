"""The validity benchmark's own parts: the rank-based ROC AUC and the one-fact changes of a scene."""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from t2v.world.captions import canonical_caption
from t2v.world.sampling import sample_spec

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "evaluator_validity.py"
_spec = importlib.util.spec_from_file_location("evaluator_validity", _PATH)
validity = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(validity)

scores = st.lists(st.integers(0, 4).map(float), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(scores, scores)
def test_auc_matches_pairwise_counting_with_ties_as_half(pos, neg):
    brute = np.mean([1.0 if p > q else 0.5 if p == q else 0.0 for p in pos for q in neg])
    assert validity.roc_auc(np.array(pos), np.array(neg)) == pytest.approx(brute)


def test_auc_extremes_and_empty_input():
    assert validity.roc_auc(np.array([2.0, 3.0]), np.array([0.0, 1.0])) == 1.0
    assert validity.roc_auc(np.array([0.0]), np.array([1.0])) == 0.0
    assert validity.roc_auc(np.array([1.0, 1.0]), np.array([1.0])) == 0.5
    with pytest.raises(ValueError, match="positive"):
        validity.roc_auc(np.array([]), np.array([1.0]))


def _facts(spec) -> dict[str, object]:
    objects = sorted((o.color, o.shape, o.size, o.motion) for o in spec.objects)
    return {"objects": objects, "background": spec.background, "relation": spec.relation,
            "count": len(spec.objects)}


def test_change_one_fact_changes_exactly_the_named_fact():
    rng = random.Random(3)
    kinds = set()
    for _ in range(200):
        spec = sample_spec(rng)
        kind, changed = validity.change_one_fact(spec, rng)
        kinds.add(kind)
        before, after = _facts(spec), _facts(changed)
        assert canonical_caption(changed) != canonical_caption(spec)
        if kind in ("background", "relation"):
            assert before[kind] != after[kind]
            assert {k: v for k, v in before.items() if k != kind} == {k: v for k, v in after.items() if k != kind}
        elif kind == "count":
            assert (before["count"], after["count"], after["relation"]) == (1, 2, None)
            assert set(before["objects"]) == set(after["objects"])
        else:
            assert before["background"] == after["background"] and before["relation"] == after["relation"]
            pairs = list(zip(spec.objects, changed.objects, strict=True))
            differing = [(a, b) for a, b in pairs if getattr(a, kind) != getattr(b, kind)]
            assert differing
            for a, b in pairs:  # nothing else about any object changes
                others = [f for f in ("color", "shape", "size", "motion") if f != kind]
                assert [getattr(a, f) for f in others] == [getattr(b, f) for f in others]
            if kind == "motion":
                assert all(b.motion != "still" for _, b in differing)  # captions may leave "still" unsaid
    assert kinds == set(validity.FACT_KINDS)
