"""Shapes-world captions, the train/held-out lexicon and the caption parser."""

from __future__ import annotations

import random
import re

import pytest

from t2v.world.captions import LEXICON, canonical_caption, captions, lexicon, parse_caption
from t2v.world.facts import relation_holds
from t2v.world.sampling import sample_spec
from t2v.world.spec import COLORS, MOTIONS, RELATIONS, SHAPES, SIZES, ShapeObject, WorldSpec


def _meaning(spec: WorldSpec):
    """Everything a caption states: objects' attributes in order, relation, background, camera."""
    objects = [(o.shape, o.color, o.size, o.motion) for o in spec.objects]
    return objects, spec.relation, spec.background, spec.camera


def _random_specs(count: int, seed: int) -> list[WorldSpec]:
    rng = random.Random(seed)
    return [sample_spec(rng, two_objects=0.5, identical_pair=0.3, camera_pan=0.3) for _ in range(count)]


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _phrases_in(text: str, phrases) -> set[str]:
    padded = " " + " ".join(_words(text)) + " "
    return {p for p in phrases if f" {p} " in padded}


HELDOUT_PHRASES = {p for p, e in LEXICON.items() if e.heldout}


# -- canonical captions -------------------------------------------------------------------

def test_canonical_caption_examples():
    ball = ShapeObject("circle", "red", "big", "bounce")
    assert canonical_caption(WorldSpec((ball,), background="gray")) == "a big red circle bouncing on a gray background"
    a = ShapeObject("circle", "red", "small", "left", x=0.3)
    b = ShapeObject("square", "blue", "big", "still", x=0.7)
    assert canonical_caption(WorldSpec((a, b), background="white", relation="left of")) == (
        "a small red circle moving left to the left of a big blue square on a white background")
    sq = ShapeObject("square", "red", "small", "up")
    assert canonical_caption(WorldSpec((sq, sq), background="gray")) == (
        "two small red squares moving up on a gray background")
    orange = ShapeObject("triangle", "orange", "big", "still")
    assert canonical_caption(WorldSpec((orange,), background="checkered", camera="pan right")) == (
        "a big orange triangle on a checkered background as the camera pans right")


def test_canonical_caption_round_trips_and_is_deterministic():
    for spec in _random_specs(200, seed=11):
        text = canonical_caption(spec)
        assert text == canonical_caption(spec)
        assert _meaning(parse_caption(text)) == _meaning(spec), text


# -- paraphrases --------------------------------------------------------------------------

@pytest.mark.parametrize("vocabulary", ["train", "heldout"])
def test_every_paraphrase_parses_back_to_its_scene(vocabulary):
    rng = random.Random(5)
    kinds = {"one": 0, "related": 0, "pair": 0, "pan": 0}
    for spec in _random_specs(300, seed=7 if vocabulary == "train" else 8):
        kinds["one"] += len(spec.objects) == 1
        kinds["related"] += spec.relation is not None
        kinds["pair"] += len(spec.objects) == 2 and spec.relation is None
        kinds["pan"] += spec.camera != "static"
        texts = captions(spec, rng, n=8, vocabulary=vocabulary)
        assert len(texts) == 8 and len(set(texts)) == 8
        for text in texts:
            assert _meaning(parse_caption(text)) == _meaning(spec), text
    assert all(count >= 20 for count in kinds.values()), kinds  # every kind of scene was exercised


def test_train_captions_never_use_heldout_words_and_heldout_ones_always_do():
    rng = random.Random(3)
    for spec in _random_specs(150, seed=9):
        for text in captions(spec, rng, n=6, vocabulary="train"):
            assert not _phrases_in(text, HELDOUT_PHRASES), text
        for text in captions(spec, rng, n=6, vocabulary="heldout"):
            assert _phrases_in(text, HELDOUT_PHRASES), text


def test_paraphrases_vary_words_and_word_order():
    spec = WorldSpec((ShapeObject("circle", "red", "big", "bounce"),), background="gray")
    texts = captions(spec, random.Random(0), n=40)
    assert len(set(texts)) == 40
    shape_words = {w for t in texts for w in _words(t) if lexicon().get(w, ("",))[0] == "shape"}
    assert len(shape_words) >= 3 and shape_words <= {"circle", "ball", "disc", "disk", "dot"}
    assert any(t.startswith(("on ", "against ")) for t in texts)  # background first
    assert any(t.startswith("a ") and "background" in t.split(",")[-1] for t in texts)  # background last
    assert any("bounces" in t for t in texts) and any("bouncing" in t for t in texts)


def test_captions_are_reproducible_and_filterable():
    spec = _random_specs(1, seed=4)[0]
    assert captions(spec, random.Random(1), n=5) == captions(spec, random.Random(1), n=5)
    limit = sorted(len(t) for t in captions(spec, random.Random(1), n=20))[10]
    short = captions(spec, random.Random(2), n=5, keep=lambda t: len(t) <= limit)
    assert len(short) == 5 and all(len(t) <= limit for t in short)


def test_still_may_go_unsaid_but_everything_else_is_stated():
    spec = WorldSpec((ShapeObject("square", "green", "small", "still"),), background="white")
    texts = captions(spec, random.Random(2), n=30)
    motion_free = [t for t in texts if not any(lexicon()[w][0] == "motion" for w in _words(t) if w in lexicon())]
    assert motion_free, "some captions of a still object should say nothing about motion"
    for text in texts:
        words = set(_words(text))
        assert words & {"small", "little"} and words & {"white"} and words & {"green", "emerald"}


def test_captions_fit_the_text_encoder():
    architecture = pytest.importorskip("t2v.models.architecture")
    try:
        tokenizer = architecture.load_tokenizer()
    except ImportError as err:  # the MiniLM package is optional outside the full install
        pytest.skip(str(err))
    limit = architecture.TEXT_MAX_LENGTH

    def length(text: str) -> int:
        return len(tokenizer(text)["input_ids"])

    rng = random.Random(0)
    plain, too_long = 0, 0
    for spec in _random_specs(150, seed=21):
        assert length(canonical_caption(spec)) <= limit
        for vocabulary in ("train", "heldout"):
            texts = captions(spec, rng, n=4, vocabulary=vocabulary)
            plain += len(texts)
            too_long += sum(length(t) > limit for t in texts)
            kept = captions(spec, rng, n=4, vocabulary=vocabulary, keep=lambda t: length(t) <= limit)
            assert len(kept) == 4 and all(length(t) <= limit for t in kept)
    assert too_long <= plain // 100  # rare without a filter; none with one


@pytest.mark.parametrize("attribute", ["color", "shape", "size"])
def test_omitted_attributes_go_unsaid_and_the_rest_is_kept(attribute):
    words = lexicon("train")
    for spec in _random_specs(40, seed=8):
        for text in captions(spec, random.Random(3), n=3, omit=[attribute]):
            said = {words[w][0] for w in _words(text) if w in words}
            assert attribute not in said, text
            assert {"color", "shape", "size"} - {attribute} <= said, text
            if attribute == "shape":
                assert set(_words(text)) & {"shape", "shapes", "object", "objects"}, text


def test_no_omission_leaves_captions_as_they_were():
    spec = _random_specs(1, seed=5)[0]
    assert captions(spec, random.Random(4), n=4, omit=()) == captions(spec, random.Random(4), n=4)


def test_captions_reject_bad_arguments():
    spec = _random_specs(1, seed=0)[0]
    with pytest.raises(ValueError, match="vocabulary"):
        captions(spec, random.Random(0), vocabulary="test")
    with pytest.raises(ValueError, match=r"n must be an integer in \[1, 1000\]"):
        captions(spec, random.Random(0), n=0)
    with pytest.raises(ValueError, match="rng"):
        captions(spec, 3)
    with pytest.raises(ValueError, match="omit"):
        captions(spec, random.Random(0), omit=["motion"])
    with pytest.raises(ValueError, match="omit"):
        captions(spec, random.Random(0), omit="color")
    with pytest.raises(ValueError, match="spec"):
        canonical_caption("a red ball")


# -- lexicon ------------------------------------------------------------------------------

def test_lexicon_splits_and_covers_the_world():
    train, heldout = lexicon("train"), lexicon("heldout")
    assert not set(train) & set(heldout)
    assert heldout["scarlet"] == ("color", "red") and heldout["orb"] == ("shape", "circle")
    assert heldout["cube"] == ("shape", "square") and heldout["lilac"] == ("color", "purple")
    assert heldout["tiny"] == ("size", "small") and heldout["large"] == ("size", "big")
    assert train["crimson"] == ("color", "red") and train["grey"] == ("background", "gray")
    assert train["beneath"] == ("relation", "below") and train["hopping"] == ("motion", "bounce")
    for category, values in (("color", COLORS), ("shape", SHAPES), ("size", SIZES)):
        for value in values:
            assert (category, value) in train.values() and (category, value) in heldout.values()
    held_motions = {v for c, v in heldout.values() if c == "motion"}
    assert len(held_motions) >= 4 and held_motions <= set(MOTIONS)
    assert {v for c, v in lexicon().values() if c == "relation"} == set(RELATIONS)
    with pytest.raises(ValueError, match="split"):
        lexicon("dev")


# -- parser -------------------------------------------------------------------------------

def test_parser_defaults_and_format():
    spec = parse_caption("a red ball", frames=8, size=32, fps=4)
    assert _meaning(spec) == ([("circle", "red", "big", "still")], None, "black", "static")
    assert (spec.frames, spec.size, spec.fps) == (8, 32, 4)
    # A pan needs a textured background, so that is the default then.
    assert parse_caption("a red ball as the camera pans left").background == "checkered"


def test_parser_is_case_and_punctuation_tolerant():
    spec = parse_caption("  A Tiny, SCARLET orb -- hopping!!! (on the Grey backdrop.) ")
    assert _meaning(spec) == ([("circle", "red", "small", "bounce")], None, "gray", "static")


def test_parser_relation_belongs_to_the_first_object_and_layout_keeps_it():
    for relation, phrase in (("left of", "left of"), ("right of", "to the right of"), ("above", "over"),
                             ("below", "underneath")):
        spec = parse_caption(f"a red ball {phrase} a blue box")
        assert spec.relation == relation
        assert [o.color for o in spec.objects] == ["red", "blue"]
        a, b = spec.objects
        assert relation_holds((a.x, a.y), (b.x, b.y), relation)


def test_parser_counts_and_motions():
    spec = parse_caption("two small red squares moving up on a gray background")
    assert _meaning(spec) == ([("square", "red", "small", "up")] * 2, None, "gray", "static")
    spec = parse_caption("a red ball and a blue box, both shrinking")
    assert [o.motion for o in spec.objects] == ["shrink", "shrink"]
    spec = parse_caption("bouncing on white, a green triangle")
    assert spec.objects[0].motion == "bounce" and spec.background == "white"


@pytest.mark.parametrize("text, message", [
    ("a red dragon", "unknown word 'dragon'"),
    ("a red ball flying", "unknown word 'flying'"),
    ("a big red", "not followed by a shape"),
    ("bouncing on a gray background", "names no shape"),
    ("a big ball", "needs a colour"),
    ("three red balls", "at most 2"),
    ("a red ball and a blue box and a green triangle", "at most 2"),
    ("two red balls above a blue box", "between two single shapes"),
    ("a white ball", "background colour"),
    ("a red ball moving to the left of a blue box", "needs a direction"),
    ("a red ball bouncing and shrinking", "two motions"),
    ("a red ball above", "second shape"),
    ("above a blue box", "between two single shapes"),
    ("a red ball on a gray background as the camera pans left", "textured background"),
    ("a red ball as the camera pans up", "pan left or right"),
    ("", "non-empty"),
])
def test_parser_rejects_what_it_cannot_read(text, message):
    with pytest.raises(ValueError, match=message):
        parse_caption(text)


def test_parser_unknown_word_message_lists_the_vocabulary():
    with pytest.raises(ValueError) as info:
        parse_caption("a crimson dragon")
    assert "known colours: red" in str(info.value) and "shapes: circle, square, triangle" in str(info.value)


def test_parser_checks_the_clip_format():
    with pytest.raises(ValueError, match="size"):
        parse_caption("a red ball", size=30)
    with pytest.raises(ValueError, match="frames"):
        parse_caption("a red ball", frames=1)
