"""The LLM planner (VideoDrafter's two steps) against a real local chat server."""

from __future__ import annotations

import json

import pytest

from t2v.llm import OpenAIChatBackend
from t2v.llm_json import LLMOutputError
from t2v.story import Entity, LLMPlanner, plan_story
from tests.chat_server import ChatServer, Recorded

STORY = "A big red ball rolls to the right on a black background. Then it bounces next to a wooden box as the " \
        "camera pans left."
SCRIPT = {"entities": ["ball", "Box"], "scenes": [
    {"event": "{ball} rolls to the right", "entities": ["ball"], "background": "black background", "camera": None},
    {"event": "{ball} bouncing to the left of {box}.", "entities": ["ball", "box"], "background": None,
     "camera": "the camera pans left"},
]}
DESCRIPTIONS = {"descriptions": {"ball": "a big shiny red ball", "box": "a small wooden box"}}


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("T2V_CACHE", str(tmp_path / "t2v-cache"))


def step(request: Recorded) -> str:
    """Which request this is, from its first user message (retries end with the validator's complaint)."""
    first = next(m["content"] for m in request.messages() if m["role"] == "user")
    return "script" if first.startswith("Write the script") else "describe"


def llm(script_replies: list[str], describe_replies: list[str]):
    """A responder giving each step's replies in order, repeating the last one."""
    queues = {"script": list(script_replies), "describe": list(describe_replies)}

    def respond(request: Recorded) -> str:
        queue = queues[step(request)]
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return respond


def planner(server: ChatServer, **options) -> LLMPlanner:
    return LLMPlanner(OpenAIChatBackend(server.base_url, "tiny", use_cache=False), **options)


def test_descriptions_are_written_once_and_repeated_verbatim_in_every_prompt():
    with ChatServer(llm(["```json\n" + json.dumps(SCRIPT) + "\n```"], ["Here: " + json.dumps(DESCRIPTIONS)])) as server:
        script = planner(server).plan(STORY, seed=3)
    assert [step(r) for r in server.chat_requests] == ["script", "describe"]
    describe = server.chat_requests[1].last_user_text()
    assert "Entities: ball, box" in describe and STORY in describe
    assert script.entities == [Entity("ball", "a big shiny red ball"), Entity("box", "a small wooden box")]
    assert [(s.prompt, s.entities, s.background, s.camera) for s in script.scenes] == [
        ("a big shiny red ball moving right on a black background", ["ball"], "black", None),
        ("a big shiny red ball bouncing to the left of a small wooden box on a black background "
         "as the camera pans left", ["ball", "box"], "black", "pan left"),
    ]
    assert script.story == STORY and script.seed == 3 and script.planner == "llm"


def test_a_background_left_in_the_event_is_taken_out_and_not_said_twice():
    reply = {"entities": ["dog"], "scenes": [
        {"event": "{dog} running across a meadow on a white background", "entities": ["dog"]}]}
    with ChatServer(llm([json.dumps(reply)], [json.dumps({"descriptions": {"dog": "a fluffy brown dog"}})])) as server:
        script = plan_story("A dog runs across a meadow.", planner="llm",
                            backend=OpenAIChatBackend(server.base_url, "tiny", use_cache=False))
    assert script.scenes[0].prompt == "a fluffy brown dog running across a meadow on a white background"
    assert script.scenes[0].background == "white"


def test_malformed_replies_are_retried_with_the_problem_shown():
    undeclared = {"entities": ["ball"], "scenes": [{"event": "{ball} next to {cat}", "entities": ["ball"]}]}
    missing = {"descriptions": {"ball": "a big shiny red ball"}}
    with ChatServer(llm(["Sure! Scene one: the ball rolls.", json.dumps(undeclared), json.dumps(SCRIPT)],
                        [json.dumps(missing), json.dumps(DESCRIPTIONS)])) as server:
        script = planner(server).plan(STORY)
    kinds = [step(r) for r in server.chat_requests]
    assert kinds == ["script", "script", "script", "describe", "describe"]
    second, third, _, fifth = (server.chat_requests[i] for i in (1, 2, 3, 4))
    assert "contains no JSON" in second.last_user_text()
    assert second.messages()[2] == {"role": "assistant", "content": "Sure! Scene one: the ball rolls."}
    assert "scenes[0] uses {cat}, which is not in the top-level \"entities\"" in third.last_user_text()
    assert "has no description of 'box'" in fifth.last_user_text()
    assert script.scenes[1].prompt.startswith("a big shiny red ball bouncing to the left of a small wooden box")


def test_a_step_that_stays_malformed_is_a_clear_error():
    with ChatServer(llm(['{"scenes": "one scene"}'], [json.dumps(DESCRIPTIONS)])) as server:
        with pytest.raises(LLMOutputError, match=r'story script: .*3 attempt.*"scenes" list'):
            planner(server, max_retries=2).plan(STORY)
    assert len(server.chat_requests) == 3
    no_placeholder = {"entities": ["ball"], "scenes": [{"event": "a ball rolls", "entities": ["ball"]}]}
    with ChatServer(llm([json.dumps(no_placeholder)], [json.dumps(DESCRIPTIONS)])) as server:
        with pytest.raises(LLMOutputError, match=r"scenes\[0\]\.event must write the entity 'ball' as \{ball\}"):
            planner(server, max_retries=1).plan(STORY)
    with ChatServer(llm([json.dumps(SCRIPT)], ['{"descriptions": {"ball": "a ball", "box": ""}}'])) as server:
        with pytest.raises(LLMOutputError, match=r"entity descriptions: .*descriptions\['box'\] must be a non-empty"):
            planner(server, max_retries=0).plan(STORY)
    assert len(server.chat_requests) == 2


def test_constructor_and_story_are_validated():
    backend = OpenAIChatBackend("http://127.0.0.1:9/v1", "m", use_cache=False)
    with pytest.raises(ValueError, match="backend must be a t2v.llm ChatBackend"):
        LLMPlanner(None)
    with pytest.raises(ValueError, match="max_scenes must be an integer >= 1"):
        LLMPlanner(backend, max_scenes=0)
    with pytest.raises(ValueError, match="story must be a non-empty string"):
        LLMPlanner(backend).plan("  ")
