"""ETVA's multi-stage reasoning prompts for video question answering, and parsing of the verdict.

A video LLM asked a yes/no question point-blank tends to answer "yes". ETVA instead walks it
through three stages: (1) video understanding — describe what the video shows that bears on the
question; (2) critical reflection — check that description against the question and against
common-sense knowledge retrieved for the prompt; (3) conclusion — a verdict ending in ``[YES]`` or
``[NO]``. The prompts here serve every generative answerer (local transformers or HTTP), so they
read the same whichever model answers.

The answerers never show the generation prompt itself: an atomic question is judged on the video
alone, so the prompt's wording cannot talk the model into a "yes".
"""

from __future__ import annotations

import re

from .types import EvalAnswer

REASONING_MODES: tuple[str, ...] = ("multi-turn", "single-turn")
_VERDICT = re.compile(r"\[\s*(yes|no)\s*\]", re.IGNORECASE)

SYSTEM_PROMPT = (
    "You are a careful judge of whether a video matches a description. You are shown frames sampled "
    "uniformly, in order, from one short video. Judge only what is visible; do not assume anything."
)


def knowledge_block(knowledge: str | None) -> str:
    """The retrieved knowledge as a paragraph to append to a prompt, or nothing."""
    if knowledge is None or not knowledge.strip():
        return ""
    return f"\n\nCommon-sense knowledge about what the video should show:\n{knowledge.strip()}"


def understanding_prompt(question: str) -> str:
    """Stage 1: describe what bears on the question, without answering it yet."""
    return (
        f"Question about the video: {question}\n\n"
        "Step 1 (video understanding): describe what the video shows that is relevant to this question: "
        "the objects, their attributes (colour, shape, size, material, number), where they are, how they "
        "move and how things change over time. Do not answer the question yet."
    )


def reflection_prompt(question: str, knowledge: str | None) -> str:
    """Stage 2: check the description against the question and the knowledge."""
    source = "the question and the knowledge below" if knowledge_block(knowledge) else "the question"
    return (
        f"Step 2 (critical reflection): compare your description with {source}. Point out every detail "
        f"that supports it, contradicts it or is missing, and whether anything in your description might "
        f"be wrong. Question: {question}{knowledge_block(knowledge)}"
    )


def conclusion_prompt(question: str) -> str:
    """Stage 3: the verdict, ending with the tag the parser reads."""
    return (
        f"Step 3 (conclusion): is the answer to the question \"{question}\" yes or no? Give one sentence "
        "of reasoning, then end your reply with exactly [YES] or [NO]."
    )


def single_turn_prompt(question: str, knowledge: str | None) -> str:
    """All three stages asked for in one reply (one model call instead of three)."""
    return (
        f"Question about the video: {question}{knowledge_block(knowledge)}\n\n"
        "Answer in three steps.\n"
        "1. Video understanding: describe what the video shows that is relevant to the question "
        "(objects, attributes, positions, motion, changes over time).\n"
        "2. Critical reflection: check that description against the question"
        + (" and the knowledge above" if knowledge_block(knowledge) else "")
        + "; note anything that contradicts it or is missing.\n"
        "3. Conclusion: one sentence, then end your reply with exactly [YES] or [NO]."
    )


def direct_prompt(question: str, knowledge: str | None) -> str:
    """A point-blank question whose next token is scored as yes/no (``score="logits"``)."""
    return f"{question}{knowledge_block(knowledge)}\n\nAnswer with a single word: yes or no."


def parse_verdict(reply: str) -> EvalAnswer:
    """The verdict of a stage-3 reply: its last ``[YES]``/``[NO]`` tag (any case, spaces allowed).

    A reply without a tag is unanswerable: it says nothing either way, so it earns neither a "yes"
    nor a "no" and is left out of the score (the score's coverage shows how often that happened).
    """
    tags = _VERDICT.findall(reply or "")
    if not tags:
        return EvalAnswer.unanswerable(f"no [YES]/[NO] verdict in the reply: {(reply or '').strip()[:500]}")
    return EvalAnswer(yes=tags[-1].lower() == "yes", confidence=1.0, rationale=reply.strip())
