"""ETVA's knowledge augmentation: an LLM spells out the common sense a prompt takes for granted.

"A glass falls off the table" implies that it moves down, speeds up and probably shatters; a video
LLM judging the clip does better when that is said out loud. :class:`KnowledgeRetriever` asks an
auxiliary chat LLM once per prompt for what should be visible if the prompt is satisfied, keeps
the answer on disk (keyed by prompt and backend), and the evaluator hands it to the answerer,
which puts it in its reflection stage.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from t2v.disk_cache import JsonCache, cache_root, content_key
from t2v.llm import ChatBackend

from .types import SceneGraph

logger = logging.getLogger(__name__)

PROMPT_VERSION = 1  # bump when the instructions change, so old cached knowledge is not reused

SYSTEM_PROMPT = ("You are an expert in physics and everyday common sense who helps judge whether a generated "
                 "video matches its text prompt.")


def knowledge_request(prompt: str) -> str:
    return (
        f"A text-to-video model was asked for a video of: \"{prompt}\"\n\n"
        "Write the implicit common-sense and physical knowledge needed to judge such a video: what must be "
        "visible if the prompt is satisfied (how the things named look, how they move, physical laws at "
        "work such as gravity, inertia, reflection or fluid flow, consequences of the actions, the natural "
        "order of events). Give 3 to 6 short bullet points about this prompt only, with no preamble."
    )


def default_knowledge_cache_dir() -> Path:
    """``$T2V_CACHE/knowledge`` or ``~/.cache/t2v/knowledge``."""
    return cache_root() / "knowledge"


class KnowledgeRetriever:
    """Common-sense knowledge for a prompt from a chat LLM, retrieved once and cached on disk.

    Args:
        backend: any :class:`~t2v.llm.ChatBackend` (its ``identity`` is part of the cache key).
        cache_dir: folder of the knowledge cache; None is ``$T2V_CACHE/knowledge`` or ``~/.cache/t2v/knowledge``.
        use_cache: False asks the LLM every time.
        max_tokens: the length limit of the LLM's answer.
    """

    def __init__(self, backend: ChatBackend, *, cache_dir: str | os.PathLike[str] | None = None,
                 use_cache: bool = True, max_tokens: int = 400) -> None:
        if backend is None or not callable(getattr(backend, "chat", None)):
            raise ValueError("backend must be a chat backend (see t2v.llm.make_backend)")
        if not isinstance(getattr(backend, "identity", None), str):
            raise ValueError("backend must have a string 'identity' (it keys the knowledge cache)")
        if not isinstance(use_cache, bool):
            raise ValueError(f"use_cache must be True or False, got {use_cache!r}")
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
            raise ValueError(f"max_tokens must be a positive integer, got {max_tokens!r}")
        self.backend = backend
        self.max_tokens = max_tokens
        self.cache = (JsonCache(cache_dir if cache_dir is not None else default_knowledge_cache_dir())
                      if use_cache else None)

    def cache_key(self, prompt: str) -> str:
        return content_key({"kind": "knowledge", "version": PROMPT_VERSION, "backend": self.backend.identity,
                            "prompt": prompt.strip()})

    def retrieve(self, prompt: str, graph: SceneGraph | None = None) -> str:
        """The knowledge text for ``prompt`` (``graph`` is accepted for the evaluator's interface)."""
        if not isinstance(prompt, str) or not prompt.strip():
            raise ValueError("prompt must be a non-empty string")
        key = self.cache_key(prompt) if self.cache is not None else None
        if key is not None:
            cached = self.cache.get(key)
            if isinstance(cached, str):
                return cached
        messages = [{"role": "system", "content": SYSTEM_PROMPT},
                    {"role": "user", "content": knowledge_request(prompt.strip())}]
        knowledge = self.backend.chat(messages, temperature=0.0, max_tokens=self.max_tokens).strip()
        if not knowledge:
            logger.warning("the LLM returned no knowledge for %r", prompt)
        if key is not None:
            self.cache.put(key, knowledge)
        return knowledge


def knowledge_retriever(backend: ChatBackend | None, **options: Any) -> KnowledgeRetriever | None:
    """A retriever over ``backend``, or None without an LLM (the evaluator then runs without knowledge)."""
    return None if backend is None else KnowledgeRetriever(backend, **options)
