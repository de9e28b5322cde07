"""The shapes-world oracle against exact ground truth (``facts.truth``) on rendered clips:
random scenes clean and degraded, colour drift, soft edges, spurious blobs, hand-built hard
cases, input handling. ``benchmarks/oracle.py`` measures the same on many more scenes."""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pytest
import torch
from scipy import ndimage

from t2v.world.facts import ObjectRef, Question, falsify, spec_facts, truth
from t2v.world.oracle import OracleAnswer, OracleSettings, ShapesOracle
from t2v.world.oracle.shape_fit import fit_errors, shape_coverage
from t2v.world.render import render
from t2v.world.sampling import sample_spec
from t2v.world.spec import ShapeObject, WorldSpec

SCENES = 24  # per test; the benchmark uses 500


@pytest.fixture(scope="module")
def oracle() -> ShapesOracle:
    return ShapesOracle()


@pytest.fixture(scope="module")
def scenes() -> list[tuple[WorldSpec, list[Question], list[Question]]]:
    """Random scenes with their true facts and one falsification of each: a third of them hard
    (shapes poking out of the frame, touching or overlapping), many pairs, pans, identical pairs."""
    rng = random.Random(1234)
    out = []
    for i in range(SCENES):
        hard = {"edge_margin": 0.05, "gap": -0.03} if i % 3 == 0 else {}
        spec = sample_spec(rng, two_objects=0.6, identical_pair=0.2, camera_pan=0.25, **hard)
        facts = spec_facts(spec)
        lies = [f for f in (falsify(spec, q, rng) for q in facts) if f is not None]
        out.append((spec, facts, lies))
    kinds = {len(s.objects) for s, _, _ in out}
    assert kinds == {1, 2} and any(s.camera != "static" for s, _, _ in out)
    return out


def blur_and_noise(frames: np.ndarray, rng: np.random.Generator, blur: float = 1.5, noise: float = 0.08):
    x = ndimage.gaussian_filter(frames.astype(np.float32) / 255.0, (0.0, blur, blur, 0.0))
    return np.clip(x + rng.normal(0.0, noise, x.shape).astype(np.float32), 0.0, 1.0)


def rotate_hue(frames: np.ndarray, degrees: float, gain: float = 1.0) -> np.ndarray:
    """Rotate every colour about the grey axis by ``degrees`` and scale brightness by ``gain``."""
    k = np.ones(3) / math.sqrt(3.0)
    cross = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    theta = math.radians(degrees)
    rot = np.eye(3) + math.sin(theta) * cross + (1 - math.cos(theta)) * cross @ cross
    x = frames.astype(np.float32) @ rot.T.astype(np.float32)
    return np.clip(x * gain, 0, 255).astype(np.uint8)


def accuracy(oracle, scenes, transform) -> tuple[float, float, list[str]]:
    """Share of true facts answered yes, of falsified ones answered no, and the misses."""
    yes_right = yes_total = no_right = no_total = 0
    misses = []
    for spec, facts, lies in scenes:
        answers = oracle.answer_many(transform(render(spec)), facts + lies)
        for q, a in zip(facts, answers[: len(facts)], strict=True):
            yes_right += a.yes
            yes_total += 1
            if not a.yes:
                misses.append(f"said no: {q.text()} {spec.to_json()}")
        for q, a in zip(lies, answers[len(facts) :], strict=True):
            no_right += not a.yes
            no_total += 1
            if a.yes:
                misses.append(f"said yes: {q.text()} {spec.to_json()}")
    return yes_right / yes_total, no_right / no_total, misses


def test_clean_random_scenes(oracle, scenes):
    yes, no, misses = accuracy(oracle, scenes, lambda v: v)
    assert yes >= 0.99 and no >= 0.99, misses[:5]


def test_blurred_noisy_random_scenes(oracle, scenes):
    rng = np.random.default_rng(0)
    yes, no, misses = accuracy(oracle, scenes, lambda v: blur_and_noise(v, rng))
    assert yes >= 0.95 and no >= 0.95, misses[:5]


@pytest.mark.parametrize(("degrees", "gain"), [(6.0, 1.0), (-6.0, 1.0), (0.0, 0.8), (4.0, 1.1)])
def test_colour_drift(oracle, scenes, degrees, gain):
    yes, no, misses = accuracy(oracle, scenes[:12], lambda v: rotate_hue(v, degrees, gain))
    assert yes >= 0.97 and no >= 0.97, misses[:5]


def test_soft_edges(oracle, scenes):
    yes, no, misses = accuracy(
        oracle, scenes[:12], lambda v: ndimage.gaussian_filter(v.astype(np.float32) / 255.0, (0, 2.5, 2.5, 0))
    )
    assert yes >= 0.95 and no >= 0.95, misses[:5]


def test_spurious_blobs_are_ignored(oracle):
    spec = WorldSpec((ShapeObject("circle", "red", "big", "right", 0.25, 0.5),), background="gray")
    frames = render(spec)
    yy, xx = np.mgrid[0:64, 0:64]
    for f, (cy, cx), colour in ((3, (12, 50), (40, 90, 225)), (9, (50, 12), (235, 215, 30))):
        frames[f][(yy - cy) ** 2 + (xx - cx) ** 2 <= 9] = colour
    reading = oracle.analyse(frames)
    assert [(o.color, o.shape, o.motion) for o in reading.objects] == [("red", "circle", "right")]
    assert not oracle.answer(reading, Question("existence", ObjectRef(color="blue"))).yes


# -- hand-built hard cases: the oracle must agree with truth() on every question asked ----------


def all_questions(spec: WorldSpec) -> list[Question]:
    """The true facts, every falsification of them, and counts of every colour/shape pair."""
    rng = random.Random(0)
    facts = spec_facts(spec)
    qs = facts + [f for f in (falsify(spec, q, rng) for q in facts) if f is not None]
    for obj in spec.objects:
        qs.append(
            Question("count", ObjectRef(color=obj.color), sum(o.color == obj.color for o in spec.objects))
        )
        qs.append(
            Question("count", ObjectRef(shape=obj.shape), sum(o.shape == obj.shape for o in spec.objects))
        )
    return qs


def assert_agrees(oracle: ShapesOracle, spec: WorldSpec, questions: list[Question], frames=None) -> None:
    frames = render(spec) if frames is None else frames
    answers = oracle.answer_many(frames, questions)
    wrong = [q.text() for q, a in zip(questions, answers, strict=True) if a.yes != truth(spec, q)]
    assert not wrong, wrong


HARD_CASES = {
    "two colours overlapping": WorldSpec(
        (
            ShapeObject("square", "red", "big", "still", 0.35, 0.5),
            ShapeObject("circle", "yellow", "big", "still", 0.66, 0.5),
        ),
        background="white",
        relation="left of",
    ),
    "red next to orange seam": WorldSpec(
        (
            ShapeObject("circle", "red", "big", "still", 0.32, 0.5),
            ShapeObject("triangle", "yellow", "big", "down", 0.66, 0.3),
        ),
        background="black",
    ),
    "identical pair close": WorldSpec(
        (
            ShapeObject("circle", "green", "small", "up", 0.38, 0.75),
            ShapeObject("circle", "green", "small", "up", 0.62, 0.75),
        ),
        background="gray",
    ),
    "same colour corners touching": WorldSpec(
        (
            ShapeObject("square", "purple", "small", "still", 0.4, 0.4),
            ShapeObject("square", "purple", "small", "still", 0.58, 0.58),
        ),
        background="black",
    ),
    "cut by the frame edge": WorldSpec(
        (
            ShapeObject("triangle", "blue", "big", "still", 0.12, 0.5),
            ShapeObject("circle", "orange", "small", "down", 0.93, 0.2),
        ),
        background="white",
        relation="left of",
    ),
    "pan right, object moving left": WorldSpec(
        (ShapeObject("square", "yellow", "big", "left", 0.72, 0.5),),
        background="checkered",
        camera="pan right",
    ),
    "pan left with two objects": WorldSpec(
        (
            ShapeObject("circle", "blue", "small", "bounce", 0.3, 0.7),
            ShapeObject("triangle", "red", "big", "still", 0.7, 0.45),
        ),
        background="checkered",
        camera="pan left",
        relation="left of",
    ),
    "grow and shrink across the size line": WorldSpec(
        (
            ShapeObject("circle", "orange", "small", "grow", 0.28, 0.5),
            ShapeObject("square", "green", "big", "shrink", 0.72, 0.5),
        ),
        background="gray",
        relation="left of",
    ),
}


@pytest.mark.parametrize("name", sorted(HARD_CASES))
def test_hand_built_hard_cases(oracle, name):
    spec = HARD_CASES[name]
    assert_agrees(oracle, spec, all_questions(spec))


def test_crossing_objects_relation_over_frame_ranges(oracle):
    # a moves right past the still b: left of b early, right of b late, neither on most frames.
    spec = WorldSpec(
        (
            ShapeObject("circle", "red", "small", "right", 0.275, 0.3),
            ShapeObject("square", "blue", "small", "still", 0.5, 0.7),
        ),
        background="black",
    )
    a, b = ObjectRef(shape="circle"), ObjectRef(shape="square")
    questions = [
        Question("relation", a, rel, b, frames=rng)
        for rel in ("left of", "right of", "above", "below")
        for rng in ((0, 0), (0, 3), (12, 15), (15, 15), None)
    ]
    assert_agrees(oracle, spec, questions)
    assert any(truth(spec, q) for q in questions) and not all(truth(spec, q) for q in questions)


def test_size_at_frames_and_confidence_follows_margin(oracle):
    # Small and growing: radius 0.055 at the start, 0.145 at the end (threshold 0.14).
    spec = WorldSpec((ShapeObject("triangle", "red", "small", "grow", 0.5, 0.5),), background="black")
    reading = oracle.analyse(render(spec))
    ref = ObjectRef(shape="triangle")
    start = oracle.answer(reading, Question("size", ref, "small", frames=(0, 0)))
    end = oracle.answer(reading, Question("size", ref, "big", frames=(15, 15)))
    nominal = oracle.answer(reading, Question("size", ref, "small"))
    assert start.yes and end.yes and nominal.yes
    assert not oracle.answer(reading, Question("size", ref, "big", frames=(0, 15))).yes
    # The end radius sits 3.6 % above the threshold, the start far below: less sure at the end.
    assert 0.0 < end.confidence < start.confidence <= 1.0
    assert end.p_yes == pytest.approx(0.5 + 0.5 * end.confidence)


def test_answer_many_matches_answer_and_reading_is_json(oracle, scenes):
    spec, facts, lies = scenes[1]
    frames = render(spec)
    reading = oracle.analyse(frames)
    many = oracle.answer_many(frames, facts + lies)
    assert many == [oracle.answer(reading, q) for q in facts + lies]
    assert all(isinstance(a, OracleAnswer) and 0.0 <= a.confidence <= 1.0 for a in many)
    data = json.loads(json.dumps(reading.to_dict()))
    assert data["background"] == spec.background and data["camera"] == spec.camera
    assert len(data["objects"]) == len(spec.objects)
    assert len(data["objects"][0]["frames"]) == spec.frames
    assert {o["color"] for o in data["objects"]} == {o.color for o in spec.objects}


# -- formats and input checking ----------------------------------------------------------------


def test_float_and_torch_inputs_read_alike(oracle):
    spec = HARD_CASES["pan left with two objects"]
    frames = render(spec)
    questions = all_questions(spec)
    reference = oracle.answer_many(frames, questions)
    as_float = oracle.answer_many(frames.astype(np.float32) / 255.0, questions)
    channels_first = torch.from_numpy(frames).permute(0, 3, 1, 2).contiguous()
    as_torch = oracle.answer_many(channels_first.float() / 255.0, questions)
    assert [a.yes for a in as_float] == [a.yes for a in reference] == [a.yes for a in as_torch]
    assert all(truth(spec, q) == a.yes for q, a in zip(questions, reference, strict=True))


@pytest.mark.parametrize(("size", "frames"), [(32, 8), (128, 12), (256, 8)])
def test_other_resolutions_and_lengths(oracle, size, frames):
    spec = WorldSpec(
        (
            ShapeObject("square", "blue", "big", "down", 0.3, 0.25),
            ShapeObject("circle", "orange", "small", "still", 0.75, 0.6),
        ),
        background="white",
        relation="left of",
        frames=frames,
        size=size,
    )
    assert_agrees(oracle, spec, all_questions(spec))


@pytest.mark.parametrize(
    ("frames", "message"),
    [
        (np.zeros((4, 64, 64), dtype=np.uint8), "4 dimensions"),
        (np.zeros((4, 64, 64, 2), dtype=np.uint8), "3 colour channels"),
        (np.zeros((4, 16, 16, 3), dtype=np.uint8), "at least 32x32"),
        (np.zeros((4, 64, 64, 3), dtype=np.int16), "uint8 or float"),
        (np.full((4, 64, 64, 3), 2.0, dtype=np.float32), r"\[0, 1\]"),
        (np.full((4, 64, 64, 3), np.nan, dtype=np.float32), "finite"),
        ([[0, 1, 2]], "numpy array or torch tensor"),
    ],
)
def test_bad_frames_raise(oracle, frames, message):
    with pytest.raises(ValueError, match="frames") as info:
        oracle.analyse(frames)
    assert info.match(message)


def test_bad_questions_and_settings_raise(oracle):
    spec = WorldSpec((ShapeObject("circle", "red"),), frames=8)
    reading = oracle.analyse(render(spec))
    with pytest.raises(ValueError, match="frames .* out of range"):
        oracle.answer(reading, Question("existence", ObjectRef(color="red"), frames=(3, 8)))
    with pytest.raises(ValueError, match="question must be"):
        oracle.answer(reading, "is there a red circle?")
    with pytest.raises(ValueError, match="unknown oracle setting"):
        ShapesOracle(colour_threshold=3.0)
    with pytest.raises(ValueError, match="object_chroma must be a number in"):
        ShapesOracle(object_chroma=-1.0)
    with pytest.raises(ValueError, match="fit_views must be an integer"):
        OracleSettings(fit_views=2.5)


@pytest.mark.parametrize("shape", ["circle", "square", "triangle"])
def test_model_fit_names_a_shape_cut_by_the_frame_edge(shape):
    # A shape centred 2 px inside the left edge of a 20x20 window: more than half of it is cut off.
    n = 4
    ys, xs = (np.mgrid[0 : 20 * n, 0 : 20 * n] + 0.5) / n
    coverage = shape_coverage(shape, 2.0, 10.0, 7.0, xs, ys).reshape(20, n, 20, n).mean(axis=(1, 3))
    errors, pixels = fit_errors(
        coverage, np.ones_like(coverage, dtype=bool), 0, 0, float(coverage.sum()), (5.0, 10.0), whole=False
    )
    assert pixels == 400 and min(errors, key=errors.get) == shape
    # A view whose noisy coverage sums below zero is fitted, not a crash.
    empty, _ = fit_errors(np.zeros((5, 5)), np.ones((5, 5), dtype=bool), 0, 0, -3.0, (2.0, 2.0), whole=True)
    assert set(empty) == {"circle", "square", "triangle"}
