"""Stories as multi-scene scripts: the :class:`Script` format and the planners that write it.

``plan_story(story)`` uses the rule-based planner, which needs nothing; ``planner="llm"`` with a
:class:`t2v.llm.ChatBackend` uses VideoDrafter's LLM planner. Both return a :class:`Script` that the
multi-scene pipeline renders and that a user may save, edit and load again.
"""

from __future__ import annotations

from ..llm import ChatBackend
from .llm_planner import LLMPlanner
from .rule_planner import RuleBasedPlanner
from .script import Entity, Scene, Script

__all__ = ["PLANNERS", "Entity", "LLMPlanner", "RuleBasedPlanner", "Scene", "Script", "plan_story"]

PLANNERS: tuple[str, ...] = ("rule", "llm")


def plan_story(story: str, planner: str = "rule", backend: ChatBackend | None = None, seed: int = 0) -> Script:
    """Plan ``story`` into a :class:`Script` with the rule-based planner or, given a chat ``backend``, the LLM one."""
    if planner not in PLANNERS:
        raise ValueError(f"planner must be one of {list(PLANNERS)}, got {planner!r}")
    if planner == "llm":
        if backend is None:
            raise ValueError("backend: planner='llm' needs a t2v.llm ChatBackend")
        return LLMPlanner(backend).plan(story, seed=seed)
    if backend is not None:
        raise ValueError("backend is only used by planner='llm'")
    return RuleBasedPlanner().plan(story, seed=seed)
