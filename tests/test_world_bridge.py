"""The bridge from generated questions to the shapes-world oracle's structured questions.

The property: a shapes-world caption, read as a complete description, yields exactly the spec's
true facts (``spec_facts``) once mapped; read as an open prompt, every mapped question is true.
"""

from __future__ import annotations

import random

import pytest

from t2v.eval import spacy_parser
from t2v.eval.questions import RuleBasedQuestionGenerator
from t2v.eval.types import EvalQuestion, SceneGraph
from t2v.eval.world_bridge import to_frames, to_world_question, world_camera, world_motion, world_value
from t2v.world.captions import canonical_caption, captions
from t2v.world.facts import ObjectRef, Question, spec_facts, truth
from t2v.world.sampling import sample_spec
from t2v.world.spec import ShapeObject, WorldSpec

pytestmark = pytest.mark.skipif(not spacy_parser.spacy_available(), reason="spaCy's English pipeline not installed")


@pytest.fixture(scope="module")
def closed() -> RuleBasedQuestionGenerator:
    return RuleBasedQuestionGenerator(parser="spacy", closed_world=True)


def scenes(seed: int, count: int, vocabulary: str) -> list[tuple[WorldSpec, str]]:
    """Random specs (one or two objects, identical pairs, camera pans) with their canonical caption
    and paraphrases."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        spec = sample_spec(rng, two_objects=0.5, identical_pair=0.2, camera_pan=0.3)
        texts = captions(spec, rng, n=3, vocabulary=vocabulary)
        if vocabulary == "train":
            texts = [canonical_caption(spec), *texts]
        out.extend((spec, text) for text in texts)
    return out


def mapped(generator: RuleBasedQuestionGenerator, items: list[tuple[WorldSpec, str]]) -> list[set[Question]]:
    results = generator.generate_batch([text for _, text in items])
    out = []
    for (spec, _), (graph, questions) in zip(items, results, strict=True):
        world = (to_world_question(q, graph, num_frames=spec.frames) for q in questions)
        out.append({w for w in world if w is not None})
    return out


def describe(question_set: set[Question]) -> list[str]:
    return sorted(q.text() for q in question_set)


@pytest.mark.parametrize(("seed", "vocabulary"), [(101, "train"), (102, "train"), (103, "heldout")])
def test_captions_yield_exactly_the_spec_facts(closed: RuleBasedQuestionGenerator, seed: int,
                                               vocabulary: str) -> None:
    items = scenes(seed, 25, vocabulary)
    problems = []
    for (spec, text), got in zip(items, mapped(closed, items), strict=True):
        want = set(spec_facts(spec))
        if got != want:
            problems.append(f"{text!r}: missing {describe(want - got)}, extra {describe(got - want)}")
    assert not problems, "\n".join(problems)


def test_open_prompts_map_only_to_true_facts() -> None:
    generator = RuleBasedQuestionGenerator(parser="spacy")
    items = scenes(104, 20, "train")
    for (spec, text), got in zip(items, mapped(generator, items), strict=True):
        assert got, text
        false = [q.text() for q in got if not truth(spec, q)]
        assert not false, f"{text!r}: {false}"


def test_grow_and_relation_at_frames(closed: RuleBasedQuestionGenerator) -> None:
    graph, questions = closed.generate("a big red circle growing to the left of a small blue square")
    world = {to_world_question(q, graph, num_frames=16) for q in questions} - {None}
    circle = ObjectRef(shape="circle")
    assert Question("size", circle, "small", frames=(0, 0)) in world
    assert Question("size", circle, "big", frames=(15, 15)) in world
    assert Question("relation", circle, "left of", ObjectRef(shape="square"), frames=(0, 0)) in world
    assert Question("relation", circle, "left of", ObjectRef(shape="square")) in world
    assert Question("camera", value="static") in world


def test_synonyms_and_identical_pairs(closed: RuleBasedQuestionGenerator) -> None:
    graph, questions = closed.generate("two huge crimson balls bouncing against a checkered backdrop "
                                       "as the camera pans right")
    world = {to_world_question(q, graph, num_frames=8) for q in questions} - {None}
    spec = WorldSpec((ShapeObject("circle", "red", "big", "bounce", 0.3, 0.5),
                      ShapeObject("circle", "red", "big", "bounce", 0.7, 0.5)),
                     background="checkered", camera="pan right", frames=8)
    assert world == set(spec_facts(spec))


def test_identical_objects_are_asked_their_size_at_clip_times(closed: RuleBasedQuestionGenerator) -> None:
    """A pair's size at clip times is in the world's vocabulary: asked of the group, not dropped."""
    graph, questions = closed.generate("two small red squares shrinking on a gray background")
    world = {q.text: to_world_question(q, graph, num_frames=16) for q in questions}
    group = ObjectRef(shape="square", color="red")
    assert world["Are the squares big at the start of the video?"] == Question("size", group, "big", frames=(0, 0))
    assert world["Are the squares small at the end of the video?"] == Question("size", group, "small",
                                                                               frames=(15, 15))
    spec = WorldSpec((ShapeObject("square", "red", "small", "shrink", 0.3, 0.5),
                      ShapeObject("square", "red", "small", "shrink", 0.7, 0.5)), background="gray", frames=16)
    assert None not in world.values() and all(truth(spec, q) for q in world.values())


def test_not_expressible_maps_to_none() -> None:
    generator = RuleBasedQuestionGenerator(parser="spacy")
    graph, questions = generator.generate("a wooden table next to a red ball under a tree")
    world = {q.tuple: to_world_question(q, graph, num_frames=16) for q in questions}
    assert world[("attribute", "material", "table", "wood")] is None
    assert world[("entity", "whole", "tree")] is None
    assert world[("entity", "whole", "ball")] == Question("existence", ObjectRef(shape="circle", color="red"))


def test_questions_without_entity_ids_map_by_name() -> None:
    """An LLM-written question carries names only."""
    graph = SceneGraph(prompt="a red ball")
    from t2v.eval.types import Entity

    graph.entities.append(Entity(id="e1", name="ball", attributes={"color": ["red"]}))
    q = EvalQuestion(1, "Is the ball red?", "color", ("attribute", "color", "ball", "red"))
    assert to_world_question(q, graph, num_frames=4) == Question("color", ObjectRef(shape="circle"), "red")


def test_bad_input() -> None:
    q = EvalQuestion(1, "Is there a ball?", "existence", ("entity", "whole", "ball"))
    graph = SceneGraph(prompt="a ball")
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="num_frames"):
            to_world_question(q, graph, num_frames=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="q must"):
        to_world_question("Is there a ball?", graph, num_frames=4)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="graph"):
        to_world_question(q, {"entities": []}, num_frames=4)  # type: ignore[arg-type]


def test_words_and_frames() -> None:
    assert world_value("color", "crimson") == "red" and world_value("shape", "balls") == "circle"
    assert world_value("shape", "table") is None and world_value("color", "disc") is None
    assert [world_motion(p) for p in ("slide left", "head up", "bounce", "hop", "stay still", "rest", "dance")] == [
        "left", "up", "bounce", "bounce", "still", "still", None]
    assert [world_camera(v) for v in ("static", "pan left", "move right", "zoom in")] == [
        "static", "pan left", "pan right", None]
    assert to_frames((0.0, 0.0), 16) == (0, 0) and to_frames((1.0, 1.0), 16) == (15, 15)
    assert to_frames((0.5, 1.0), 9) == (4, 8) and to_frames(None, 16) is None
