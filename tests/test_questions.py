"""The rule-based question generator: DSG structure, concrete prompts, temporal and camera facts, bad input."""

from __future__ import annotations

import pytest

from t2v.eval import spacy_parser
from t2v.eval.questions import RuleBasedQuestionGenerator
from t2v.eval.segments import extract_camera, extract_quotes, split_segments
from t2v.eval.types import CATEGORIES, EvalQuestion, SceneGraph
from t2v.eval.wording import article, gerund, when

needs_spacy = pytest.mark.skipif(not spacy_parser.spacy_available(), reason="spaCy's English pipeline not installed")

VARIED_PROMPTS = [
    "two red apples on a wooden table",
    "a man riding a horse, then the camera pans left",
    "a ball turns from red to blue",
    "A knife with a black handle on top of the wood.",
    "A man is wearing a blue shirt. He is standing on top of a white surf board.",
    "first a cat sleeps on a sofa, then it jumps onto the table",
    "aerial view of a city at night, the camera zooms in",
    "a big red circle that grows and a small blue square left of it on a black background",
    "The person is leaning forward with their arms outstretched behind them.",
    "a sign in the shape of a pineapple with the text 'open' in red",
    "several people and a lot of birds near a lake",
    "a balloon grows while a dog runs left, and finally the camera is static",
]


@pytest.fixture(scope="module")
def spacy_generator() -> RuleBasedQuestionGenerator:
    if not spacy_parser.spacy_available():
        pytest.skip("spaCy's English pipeline not installed")
    return RuleBasedQuestionGenerator(parser="spacy")


@pytest.fixture(scope="module")
def lexicon_generator() -> RuleBasedQuestionGenerator:
    return RuleBasedQuestionGenerator(parser="lexicon")


def by_tuple(questions: list[EvalQuestion]) -> dict[tuple[str, ...], EvalQuestion]:
    return {q.tuple: q for q in questions}


def check_structure(graph: SceneGraph, questions: list[EvalQuestion]) -> None:
    """DSG's invariants: ids in order, parents valid and earlier, entity questions depend on existence."""
    assert questions, "every prompt here names something"
    assert [q.id for q in questions] == list(range(1, len(questions) + 1))
    by_id = {q.id: q for q in questions}
    existence_of: dict[str, int] = {}
    for q in questions:
        assert q.category in CATEGORIES
        assert q.text.endswith("?") and q.text[0].isupper()
        for parent in q.parents:
            assert parent in by_id and parent < q.id, f"question {q.id} has parent {parent}"
        if q.category == "existence" and q.tuple[:2] == ("entity", "whole"):
            assert q.parents == [], f"existence question {q.text!r} must be a root"
        if q.tuple[0] == "entity":
            existence_of[q.entities[0]] = q.id
        if q.frames is not None:
            lo, hi = q.frames
            assert 0.0 <= lo <= hi <= 1.0
    entities = {e.id: e for e in graph.entities}
    for q in questions:
        if q.tuple[0] == "entity" and q.tuple[1] == "part":
            owner = entities[q.entities[0]].part_of
            assert q.parents == [existence_of[owner]], "a part's existence depends on its owner's"
        elif q.tuple[0] != "entity":
            for eid in q.entities:
                if entities[eid].kind == "object":
                    assert existence_of[eid] in q.parents, f"{q.text!r} must depend on {eid} existing"
                else:  # background and camera always exist: nothing to depend on
                    assert all(by_id[p].entities != (eid,) for p in q.parents)
    for ent in graph.entities:
        assert (ent.id in existence_of) == (ent.kind == "object"), "only objects get existence questions"


@needs_spacy
@pytest.mark.parametrize("prompt", VARIED_PROMPTS)
def test_structure_spacy(spacy_generator: RuleBasedQuestionGenerator, prompt: str) -> None:
    check_structure(*spacy_generator.generate(prompt))


@pytest.mark.parametrize("prompt", VARIED_PROMPTS)
def test_structure_lexicon_parser(lexicon_generator: RuleBasedQuestionGenerator, prompt: str) -> None:
    check_structure(*lexicon_generator.generate(prompt))


@needs_spacy
def test_batch_equals_single(spacy_generator: RuleBasedQuestionGenerator) -> None:
    batch = spacy_generator.generate_batch(VARIED_PROMPTS[:4])
    for prompt, (graph, questions) in zip(VARIED_PROMPTS[:4], batch, strict=True):
        single_graph, single = spacy_generator.generate(prompt)
        assert [q.to_dict() for q in questions] == [q.to_dict() for q in single]
        assert graph.to_dict() == single_graph.to_dict()


def assert_apples(questions: list[EvalQuestion]) -> None:
    q = by_tuple(questions)
    apples = q[("entity", "whole", "apples")]
    table = q[("entity", "whole", "table")]
    assert apples.text == "Are there apples?" and table.text == "Is there a table?"
    count = q[("other", "count", "apples", "==2")]
    assert count.text == "Are there two apples?" and count.category == "number" and count.parents == [apples.id]
    red = q[("attribute", "color", "apples", "red")]
    assert red.text == "Are the apples red?" and red.category == "color" and red.parents == [apples.id]
    wood = q[("attribute", "material", "table", "wood")]
    assert wood.text == "Is the table made of wood?" and wood.category == "material"
    on = q[("relation", "spatial", "apples", "table", "on")]
    assert on.text == "Are the apples on the table?" and on.category == "spatial"
    assert on.parents == sorted([apples.id, table.id])


@needs_spacy
def test_two_red_apples(spacy_generator: RuleBasedQuestionGenerator) -> None:
    graph, questions = spacy_generator.generate("two red apples on a wooden table")
    assert_apples(questions)
    apples = next(e for e in graph.entities if e.name == "apples")
    assert apples.count == 2 and apples.attributes["color"] == ["red"]


def test_two_red_apples_without_spacy(lexicon_generator: RuleBasedQuestionGenerator) -> None:
    assert_apples(lexicon_generator.generate("two red apples on a wooden table")[1])


@needs_spacy
def test_riding_then_camera_pan(spacy_generator: RuleBasedQuestionGenerator) -> None:
    _, questions = spacy_generator.generate("a man riding a horse, then the camera pans left")
    q = by_tuple(questions)
    man, horse = q[("entity", "whole", "man")], q[("entity", "whole", "horse")]
    assert man.frames is None and horse.frames is None  # they exist over the whole clip
    ride = q[("relation", "action", "man", "horse", "ride")]
    assert ride.text == "Is the man riding the horse in the first half of the video?"
    assert ride.frames == (0.0, 0.5) and ride.category == "action"
    pan = q[("attribute", "movement", "camera", "pan left")]
    assert pan.text == "Does the camera pan left in the second half of the video?"
    assert pan.frames == (0.5, 1.0) and pan.category == "camera" and pan.parents == []
    assert ("entity", "whole", "camera") not in q


@needs_spacy
def test_color_change_asks_start_and_end(spacy_generator: RuleBasedQuestionGenerator) -> None:
    _, questions = spacy_generator.generate("a ball turns from red to blue")
    q = by_tuple(questions)
    red, blue = q[("attribute", "color", "ball", "red")], q[("attribute", "color", "ball", "blue")]
    assert red.frames == (0.0, 0.0) and red.text == "Is the ball red at the start of the video?"
    assert blue.frames == (1.0, 1.0) and blue.text == "Is the ball blue at the end of the video?"
    assert red.parents == blue.parents == [q[("entity", "whole", "ball")].id]


@needs_spacy
def test_first_then_with_pronoun(spacy_generator: RuleBasedQuestionGenerator) -> None:
    graph, questions = spacy_generator.generate("first a cat sleeps on a sofa, then it jumps onto the table")
    q = by_tuple(questions)
    sleep = q[("attribute", "action", "cat", "sleep")]
    jump = q[("attribute", "action", "cat", "jump")]  # "it" is the cat
    assert sleep.frames == (0.0, 0.5) and jump.frames == (0.5, 1.0)
    assert q[("relation", "spatial", "cat", "table", "on")].frames == (0.5, 1.0)  # "onto": then on it
    assert q[("relation", "spatial", "cat", "sofa", "on")].frames == (0.0, 0.5)
    assert [e.name for e in graph.entities if e.kind == "object"] == ["cat", "sofa", "table"]


@needs_spacy
def test_growth_is_a_size_change(spacy_generator: RuleBasedQuestionGenerator) -> None:
    _, questions = spacy_generator.generate("a balloon grows")
    q = by_tuple(questions)
    assert q[("attribute", "size", "balloon", "small")].frames == (0.0, 0.0)
    assert q[("attribute", "size", "balloon", "big")].frames == (1.0, 1.0)
    assert q[("attribute", "action", "balloon", "grow")].text == "Is the balloon growing?"
    # growing *on* something is where it grows, not a change of size
    _, apples = spacy_generator.generate("purple apples growing on a tree")
    assert not any(t[1] == "size" for t in by_tuple(apples))


@needs_spacy
def test_camera_views_motion_background(spacy_generator: RuleBasedQuestionGenerator) -> None:
    graph, questions = spacy_generator.generate("aerial view of a red circle moving left on a black background")
    q = by_tuple(questions)
    assert q[("attribute", "view", "camera", "aerial view")].text == "Is the video shot from an aerial view?"
    assert q[("attribute", "action", "circle", "move left")].text == "Is the circle moving left?"
    background = q[("attribute", "color", "background", "black")]
    assert background.text == "Is the background black?" and background.parents == []
    assert {e.kind for e in graph.entities} == {"object", "background", "camera"}
    assert not any(t[0] == "entity" and t[2] in ("background", "view") for t in q)


@needs_spacy
def test_parts_and_text(spacy_generator: RuleBasedQuestionGenerator) -> None:
    _, questions = spacy_generator.generate("a knife with a black handle next to a sign that says 'sale'")
    q = by_tuple(questions)
    handle = q[("entity", "part", "knife's handle")]
    assert handle.text == "Does the knife have a handle?"
    assert handle.parents == [q[("entity", "whole", "knife")].id]
    assert q[("attribute", "color", "handle", "black")].parents == [handle.id]
    assert q[("attribute", "text", "sign", "sale")].text == 'Does the sign say "sale"?'
    assert not any(t[0] == "entity" and "sale" in t[2] for t in q)


@needs_spacy
def test_closed_world_adds_what_silence_implies(spacy_generator: RuleBasedQuestionGenerator) -> None:
    prompt = "a red ball left of a blue box"
    open_q = by_tuple(spacy_generator.generate(prompt)[1])
    closed = RuleBasedQuestionGenerator(parser="spacy", closed_world=True)
    closed_q = by_tuple(closed.generate(prompt)[1])
    added = set(closed_q) - set(open_q)
    assert ("other", "count", "ball", "==1") in added and ("other", "count", "box", "==1") in added
    assert ("attribute", "action", "ball", "stay still") in added
    assert ("attribute", "movement", "camera", "static") in added
    left = [q for q in closed.generate(prompt)[1] if q.tuple == ("relation", "spatial", "ball", "box", "left of")]
    assert sorted(q.frames or (-1.0, -1.0) for q in left) == [(-1.0, -1.0), (0.0, 0.0)]


@pytest.mark.parametrize("bad", ["", "   \n\t", None, 42])
def test_bad_prompt_names_prompt(lexicon_generator: RuleBasedQuestionGenerator, bad: object) -> None:
    with pytest.raises(ValueError, match="prompt"):
        lexicon_generator.generate(bad)  # type: ignore[arg-type]


def test_bad_batch_and_options(lexicon_generator: RuleBasedQuestionGenerator) -> None:
    with pytest.raises(ValueError, match=r"prompts\[1\]"):
        lexicon_generator.generate_batch(["a dog", " "])
    with pytest.raises(ValueError, match="prompts"):
        lexicon_generator.generate_batch("a dog")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="parser"):
        RuleBasedQuestionGenerator(parser="stanza")
    with pytest.raises(ValueError, match="closed_world"):
        RuleBasedQuestionGenerator(closed_world="yes")  # type: ignore[arg-type]


def test_missing_spacy_model_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    spacy_parser.load_spacy.cache_clear()
    monkeypatch.setattr(spacy_parser, "SPACY_MODEL_MODULES", ("t2v_no_such_model_a", "t2v_no_such_model_b"))
    try:
        with pytest.raises(ImportError, match=r"\[nlp\]"):
            spacy_parser.load_spacy()
        assert not spacy_parser.spacy_available()
    finally:
        spacy_parser.load_spacy.cache_clear()


def test_segments_and_camera_text() -> None:
    segments = split_segments("a dog sits next to a cat, then it runs. Finally the dog sleeps")
    assert [s.text for s in segments] == ["a dog sits next to a cat", "it runs", "the dog sleeps"]
    assert [s.frames for s in segments] == [(0.0, 0.3333), (0.3333, 0.6667), (0.6667, 1.0)]
    assert split_segments("a cat next to a dog")[0].frames is None
    text, camera = extract_camera("the camera pans to the left over a forest, close-up shot")
    assert camera == [("movement", "pan left"), ("view", "close-up")]
    assert "camera" not in text and "forest" in text
    assert extract_quotes("a sign saying 'open' and don't panic") == ("a sign saying QTEXT and don't panic", ["open"])


@pytest.mark.parametrize("prompt", ["very beautiful and highly detailed", "it is"])
def test_unrecognised_prompt_still_gets_a_question(lexicon_generator: RuleBasedQuestionGenerator,
                                                   prompt: str) -> None:
    graph, questions = lexicon_generator.generate(prompt)
    assert graph.entities == [] and len(questions) == 1
    assert questions[0].tuple == ("global", prompt) and questions[0].category == "other"
    assert prompt in questions[0].text and questions[0].parents == []


def test_wording() -> None:
    assert [gerund(v) for v in ("ride", "run", "lie", "swim", "visit", "jump onto", "see")] == [
        "riding", "running", "lying", "swimming", "visiting", "jumping onto", "seeing"]
    assert [article(w) for w in ("apple", "ball", "hour", "unicorn")] == ["an", "a", "an", "a"]
    assert when((0.0, 0.0)) == " at the start of the video" and when((1.0, 1.0)) == " at the end of the video"
    assert when((0.5, 1.0)) == " in the second half of the video" and when(None) == ""
