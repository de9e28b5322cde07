"""The LLM question generator against a real local chat server answering each step of the chain."""

from __future__ import annotations

import json
import re

import pytest

from t2v.eval.llm_questions import (
    LLMQuestionGenerator,
    questions_validator,
    relations_validator,
    validate_attributes,
    validate_entities,
)
from t2v.eval.scoring import dsg_scores
from t2v.eval.types import EvalAnswer
from t2v.llm import OpenAIChatBackend
from t2v.llm_json import LLMOutputError, extract_json
from tests.chat_server import ChatServer, Recorded, scripted

PROMPT = "A red ball rolls to the left of a wooden box on a sandy beach"
ENTITIES = {"entities": [
    {"id": "e1", "name": "Ball", "kind": "object", "count": 1},
    {"id": "e2", "name": "box", "kind": "object", "count": None},
    {"id": "e3", "name": "beach", "kind": "background", "count": None},
]}
ATTRIBUTES = {"e1": {"color": ["red"]}, "e2": {"material": "wood"}, "e3": {"texture": ["sandy"]}}
RELATIONS = {"relations": [
    {"subject": "e1", "predicate": "rolls", "object": None, "kind": "action"},
    {"subject": "e1", "predicate": "left of", "object": "e2", "kind": "spatial"},
]}
ELEMENT_LINE = re.compile(r"^(\d+)\. (\w+) - ([\w ]+) \((.*)\) \[suggested category: (\w+)\]$", re.MULTILINE)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("T2V_CACHE", str(tmp_path / "t2v-cache"))


def scene_llm_for(entities: dict, attributes: dict, relations: dict):
    """A responder answering each step of the chain the way a capable LLM would, from what the request asks."""

    def respond(request: Recorded) -> str:
        text = request.last_user_text()
        if "Step 1" in text:
            return "```json\n" + json.dumps(entities) + "\n```"
        if "Step 2" in text:
            entity = re.search(r"the entity (e\d+)", text).group(1)
            return "Here you go: " + json.dumps({"attributes": attributes[entity]})
        if "Step 3" in text:
            return json.dumps(relations)
        if "Step 4" in text:
            questions = []
            for number, head, kind, args, category in ELEMENT_LINE.findall(text):
                words = args.split(", ")
                question = f"Is it true that {head} {kind} holds for {' and '.join(words)}?"
                questions.append({"id": int(number), "question": question, "category": category})
            return json.dumps({"questions": questions})
        return "?"

    return respond


scene_llm = scene_llm_for(ENTITIES, ATTRIBUTES, RELATIONS)


def generator(server: ChatServer, **options) -> LLMQuestionGenerator:
    return LLMQuestionGenerator(OpenAIChatBackend(server.base_url, "llm", use_cache=False), **options)


def test_chain_builds_the_scene_graph_and_one_question_per_element():
    with ChatServer(scene_llm) as server:
        graph, questions = generator(server).generate(PROMPT)
    assert len(server.chat_requests) == 1 + 3 + 1 + 1  # entities, attributes x3, relations, questions
    assert [(e.id, e.name, e.kind, e.count) for e in graph.entities] == [
        ("e1", "ball", "object", 1), ("e2", "box", "object", None), ("e3", "beach", "background", None)]
    assert [e.attributes for e in graph.entities] == [{"color": ["red"]}, {"material": ["wood"]},
                                                      {"texture": ["sandy"]}]
    assert [(r.subject, r.predicate, r.object, r.kind) for r in graph.relations] == [
        ("e1", "rolls", None, "action"), ("e1", "left of", "e2", "spatial")]
    table = [(q.id, q.category, q.tuple, q.parents, q.entities) for q in questions]
    assert table == [
        (1, "existence", ("entity", "whole", "ball"), [], ("e1",)),
        (2, "existence", ("entity", "whole", "box"), [], ("e2",)),
        (3, "number", ("other", "count", "ball", "==1"), [1], ("e1",)),
        (4, "color", ("attribute", "color", "ball", "red"), [1], ("e1",)),
        (5, "material", ("attribute", "material", "box", "wood"), [2], ("e2",)),
        (6, "material", ("attribute", "texture", "beach", "sandy"), [], ("e3",)),
        (7, "action", ("attribute", "action", "ball", "rolls"), [1], ("e1",)),
        (8, "spatial", ("relation", "spatial", "ball", "box", "left of"), [1, 2], ("e1", "e2")),
    ]
    assert questions[3].text == "Is it true that attribute color holds for ball and red?"
    # The dependency structure is sound for DSG scoring: a missing ball zeroes its dependants.
    answers = [EvalAnswer(yes=q.id != 1) for q in questions]
    assert dsg_scores(questions, answers) == [0, 1, 0, 0, 1, 1, 0, 0]


def test_generated_questions_reach_the_shapes_world_oracle_through_the_bridge():
    """The generator's tuples follow the evaluator's conventions, so the oracle can answer them."""
    from t2v.eval.answerers import OracleAnswerer
    from t2v.world.render import render
    from t2v.world.spec import ShapeObject, WorldSpec

    entities = {"entities": [{"id": "e1", "name": "circle", "kind": "object", "count": None},
                             {"id": "e2", "name": "background", "kind": "background", "count": None},
                             {"id": "e3", "name": "camera", "kind": "camera", "count": None}]}
    attributes = {"e1": {"color": ["red"]}, "e2": {"color": ["gray"]}, "e3": {}}
    relations = {"relations": [{"subject": "e1", "predicate": "move left", "object": None, "kind": "action"},
                               {"subject": "e3", "predicate": "static", "object": None, "kind": "action"}]}
    with ChatServer(scene_llm_for(entities, attributes, relations)) as server:
        graph, questions = generator(server).generate("a red circle moving left on a gray background, static camera")
    assert [q.tuple for q in questions] == [
        ("entity", "whole", "circle"), ("attribute", "color", "circle", "red"),
        ("attribute", "color", "background", "gray"), ("attribute", "action", "circle", "move left"),
        ("attribute", "movement", "camera", "static")]
    assert [q.category for q in questions] == ["existence", "color", "color", "action", "camera"]
    clip = render(WorldSpec(objects=(ShapeObject("circle", "red", "big", "left", 0.7, 0.5),), background="gray",
                            frames=8, size=64))
    answers = OracleAnswerer().answer(clip, questions, prompt=graph.prompt, graph=graph)
    assert [a.yes for a in answers] == [True] * 5
    assert all("shapes-world oracle" in a.rationale for a in answers)


def test_malformed_answers_are_retried_with_the_error_shown():
    attempts = {2: "Sure! The entities are a ball and a box.",
                4: json.dumps({"entities": [{"id": "e1", "kind": "object"}]})}

    def flaky(request: Recorded) -> str:
        """Step 1 goes wrong twice (prose, then a nameless entity) before a valid answer."""
        if "Step 1" in request.messages()[1]["content"]:
            return attempts.get(len(request.messages()), json.dumps(ENTITIES))
        return scene_llm(request)

    with ChatServer(flaky) as server:
        graph, questions = generator(server, max_retries=2).generate(PROMPT)
    first, second, third = server.chat_requests[:3]
    assert len(first.messages()) == 2
    assert "contains no JSON" in second.last_user_text()
    assert second.messages()[2] == {"role": "assistant", "content": "Sure! The entities are a ball and a box."}
    assert "entities[0].name must be a non-empty string" in third.last_user_text()
    assert len(third.messages()) == 6
    assert [e.name for e in graph.entities] == ["ball", "box", "beach"] and len(questions) == 8


def test_a_step_that_stays_invalid_raises_after_the_retries():
    bad_category = json.dumps({"questions": [{"id": 1, "question": "Is there a ball?", "category": "colour"}]})
    with ChatServer(scripted([json.dumps({"entities": [{"id": "e1", "name": "ball"}]}),
                              json.dumps({"attributes": {}}), json.dumps({"relations": []}), bad_category])) as server:
        with pytest.raises(LLMOutputError, match=r"questions: .* 3 attempt.*category must be one of"):
            generator(server, max_retries=2).generate("a ball")
    assert len(server.chat_requests) == 3 + 3


def test_constructor_and_prompt_are_validated():
    backend = OpenAIChatBackend("http://127.0.0.1:9/v1", "m")
    with pytest.raises(ValueError, match="backend"):
        LLMQuestionGenerator(None)
    with pytest.raises(ValueError, match="max_retries"):
        LLMQuestionGenerator(backend, max_retries=-1)
    with pytest.raises(ValueError, match="prompt"):
        LLMQuestionGenerator(backend).generate(" ")


# -- the validators and JSON extraction -------------------------------------------------------

@pytest.mark.parametrize(("data", "match"), [
    ({"objects": []}, "'entities'"), ({"entities": []}, "empty"),
    ({"entities": [{"id": "e1", "name": "a"}, {"id": "e1", "name": "b"}]}, "used twice"),
    ({"entities": [{"id": "e1", "name": "a", "kind": "person"}]}, "kind"),
    ({"entities": [{"id": "e1", "name": "a", "count": True}]}, "count"),
    ({"entities": [{"id": "e1", "name": "a", "count": 0}]}, "count"),
])
def test_validate_entities_rejects(data, match):
    with pytest.raises(ValueError, match=match):
        validate_entities(data)


def test_validate_attributes_normalises_and_rejects():
    assert validate_attributes({"attributes": {"Colour Name": ["Red", "red", "dark  red"], "size": []}}) == {
        "colour_name": ["red", "dark red"]}
    with pytest.raises(ValueError, match="list of strings"):
        validate_attributes({"attributes": {"color": 3}})
    with pytest.raises(ValueError, match="non-empty"):
        validate_attributes({"attributes": {"color": [""]}})


@pytest.mark.parametrize(("relation", "match"), [
    ({"subject": "e9", "predicate": "on", "object": "e2", "kind": "spatial"}, "not an entity id"),
    ({"subject": "e1", "predicate": "on", "object": "e9", "kind": "spatial"}, "not an entity id"),
    ({"subject": "e1", "predicate": "on", "object": "e1", "kind": "spatial"}, "same entity"),
    ({"subject": "e1", "predicate": "on", "object": None, "kind": "spatial"}, "needs an object"),
    ({"subject": "e1", "predicate": "on", "object": "e2", "kind": "temporal"}, "kind"),
    ({"subject": "e1", "predicate": "", "object": "e2", "kind": "spatial"}, "predicate"),
])
def test_validate_relations_rejects(relation, match):
    with pytest.raises(ValueError, match=match):
        relations_validator({"e1", "e2"})({"relations": [relation]})


def test_validate_questions_needs_exactly_one_per_element():
    from t2v.eval.llm_questions import Element

    validate = questions_validator([Element(1, ("entity", "whole", "a"), "existence"),
                                    Element(2, ("entity", "whole", "b"), "existence")])
    ok = {"questions": [{"id": "1", "question": "Is there a?", "category": "existence"},
                        {"id": 2, "question": "Is there b?", "category": "existence"}]}
    assert validate(ok) == {1: ("Is there a?", "existence"), 2: ("Is there b?", "existence")}
    with pytest.raises(ValueError, match=r"no question for element\(s\) \[2\]"):
        validate({"questions": ok["questions"][:1]})
    with pytest.raises(ValueError, match="two questions"):
        validate({"questions": ok["questions"] + ok["questions"][:1]})
    with pytest.raises(ValueError, match="element ids"):
        validate({"questions": [{"id": 3, "question": "?", "category": "existence"}]})


@pytest.mark.parametrize(("reply", "value"), [
    ('{"a": 1}', {"a": 1}),
    ('Here:\n```json\n{"a": [1, 2]}\n```\nDone.', {"a": [1, 2]}),
    ('The answer is {"a": "b"} as requested.', {"a": "b"}),
    ("[1, 2]", [1, 2]),
])
def test_extract_json(reply, value):
    assert extract_json(reply) == value


@pytest.mark.parametrize(("reply", "match"), [("", "empty"), ("no json here", "no JSON"),
                                              ('{"a": 1', "not valid JSON")])
def test_extract_json_errors(reply, match):
    with pytest.raises(ValueError, match=match):
        extract_json(reply)


# -- a local transformers model through the same chain ----------------------------------------

def test_gibberish_from_a_tiny_local_model_ends_in_a_clear_error(tmp_path):
    from t2v.llm import TransformersChatBackend
    from tests.tiny_chat_models import build_tiny_chat_model

    backend = TransformersChatBackend(build_tiny_chat_model(tmp_path / "chat"), device="cpu", use_cache=False)
    with pytest.raises(LLMOutputError, match="entities: the LLM gave no valid JSON in 2 attempt"):
        LLMQuestionGenerator(backend, max_retries=1, max_tokens=8).generate("a red ball")
