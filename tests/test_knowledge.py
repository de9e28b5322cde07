"""The knowledge step against a real local chat server: asked once per prompt, cached on disk, and
handed to the answerer's reflection stage."""

from __future__ import annotations

import numpy as np
import pytest

from t2v.eval.answerers import OpenAIVisionAnswerer
from t2v.eval.knowledge import KnowledgeRetriever, knowledge_retriever
from t2v.eval.types import EvalQuestion, SceneGraph
from t2v.llm import OpenAIChatBackend
from tests.chat_server import ChatServer, Recorded

PROMPT = "A glass falls off a table"


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("T2V_CACHE", str(tmp_path / "t2v-cache"))


def physicist(request: Recorded) -> str:
    text = request.last_user_text()
    if "common-sense and physical knowledge" in text:
        subject = text.split('"')[1]
        return f"  - {subject}: gravity pulls it down and it speeds up.\n- Glass may shatter on impact.  "
    return "[YES]"


def test_knowledge_is_asked_once_per_prompt_and_cached_on_disk(tmp_path):
    cache = tmp_path / "knowledge"
    with ChatServer(physicist) as server:
        backend = OpenAIChatBackend(server.base_url, "llm", use_cache=False)
        retriever = KnowledgeRetriever(backend, cache_dir=cache)
        knowledge = retriever.retrieve(PROMPT, SceneGraph(PROMPT))
        assert knowledge.startswith("- A glass falls off a table: gravity")
        assert knowledge.endswith("shatter on impact.")
        (request,) = server.chat_requests
        assert PROMPT in request.last_user_text()
        assert request.messages()[0]["role"] == "system"
        # The same prompt again, even from a new retriever (a re-run), is read from disk.
        assert KnowledgeRetriever(backend, cache_dir=cache).retrieve(PROMPT) == knowledge
        assert len(server.chat_requests) == 1
        # Another prompt, or another model, asks again.
        retriever.retrieve("A ball bounces")
        KnowledgeRetriever(OpenAIChatBackend(server.base_url, "other", use_cache=False),
                           cache_dir=cache).retrieve(PROMPT)
        assert len(server.chat_requests) == 3
        # Without the cache every call asks.
        uncached = KnowledgeRetriever(backend, use_cache=False)
        uncached.retrieve(PROMPT)
        uncached.retrieve(PROMPT)
        assert len(server.chat_requests) == 5
    assert len(list(cache.rglob("*.json"))) == 3


def test_default_knowledge_cache_follows_t2v_cache(tmp_path):
    with ChatServer(physicist) as server:
        KnowledgeRetriever(OpenAIChatBackend(server.base_url, "llm", use_cache=False)).retrieve(PROMPT)
    assert list((tmp_path / "t2v-cache" / "knowledge").rglob("*.json"))


def test_without_an_llm_there_is_no_knowledge():
    assert knowledge_retriever(None) is None
    retriever = knowledge_retriever(OpenAIChatBackend("http://127.0.0.1:9/v1", "m"), use_cache=False)
    assert isinstance(retriever, KnowledgeRetriever) and retriever.cache is None


def test_bad_arguments_are_value_errors():
    backend = OpenAIChatBackend("http://127.0.0.1:9/v1", "m")
    with pytest.raises(ValueError, match="backend"):
        KnowledgeRetriever(None)
    with pytest.raises(ValueError, match="max_tokens"):
        KnowledgeRetriever(backend, max_tokens=0)
    with pytest.raises(ValueError, match="prompt"):
        KnowledgeRetriever(backend, use_cache=False).retrieve("  ")


def test_knowledge_reaches_the_answerers_reflection_stage_through_the_evaluator():
    from t2v.eval.evaluator import Evaluator

    class OneQuestion:
        def generate(self, prompt):
            graph = SceneGraph(prompt)
            return graph, [EvalQuestion(1, "Does the glass fall?", "physics", ("attribute", "action", "glass", "fall"))]

    with ChatServer(physicist) as server:
        evaluator = Evaluator(
            generator=OneQuestion(),
            answerer=OpenAIVisionAnswerer(server.base_url, "vlm", num_frames=2, use_cache=False),
            knowledge=KnowledgeRetriever(OpenAIChatBackend(server.base_url, "llm", use_cache=False),
                                         use_cache=False),
        )
        result = evaluator.evaluate(np.zeros((4, 16, 16, 3), np.uint8), PROMPT)
    assert "gravity pulls it down" in result.knowledge
    stages = [r.last_user_text() for r in server.chat_requests[1:]]
    assert len(stages) == 3
    assert "gravity pulls it down" in stages[1] and "gravity pulls it down" not in stages[0]
    assert result.answers[0].yes
