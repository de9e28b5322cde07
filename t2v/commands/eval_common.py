"""Pieces shared by the evaluator's subcommands (`t2v questions`, `t2v evaluate`): LLM options,
choosing a question generator, and printing questions as a table."""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from t2v.eval.types import EvalAnswer, EvalQuestion


def add_llm_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--llm", metavar="URL",
                        help="chat LLM for question generation: an OpenAI-compatible endpoint "
                             "(http://host:port/v1) or a local transformers model folder; "
                             "default: the rule-based generator, which needs nothing")
    parser.add_argument("--llm-model", metavar="NAME", help="model name to request from the --llm endpoint")


def make_llm_backend(args: argparse.Namespace) -> Any:
    """The chat backend named by ``--llm``/``--llm-model``."""
    from t2v.llm import make_backend

    if not args.llm:
        raise ValueError("--llm is required here: give an endpoint URL or a local model folder")
    return make_backend(args.llm, args.llm_model)


@contextmanager
def llm_failures_named() -> Iterator[None]:
    """Turn a failing ``--llm`` endpoint or unusable LLM output into a ValueError naming ``--llm``,
    which the CLI prints as one line (exit code 2) instead of a traceback."""
    try:
        yield
    except RuntimeError as err:
        from t2v.llm import ChatError
        from t2v.llm_json import LLMOutputError

        if isinstance(err, (ChatError, LLMOutputError)):
            raise ValueError(f"--llm: {err}") from err
        raise


def make_generator(args: argparse.Namespace, backend: Any = None) -> Any:
    """The LLM question generator when ``--llm`` is given, else the rule-based one."""
    if args.llm_model and not args.llm:
        raise ValueError("--llm-model needs --llm")
    if args.llm:
        from t2v.eval.llm_questions import LLMQuestionGenerator

        return LLMQuestionGenerator(backend if backend is not None else make_llm_backend(args))
    from t2v.eval.questions import RuleBasedQuestionGenerator

    return RuleBasedQuestionGenerator()


def check_prompt(prompt: str | None, name: str = "prompt") -> str:
    if prompt is None or not prompt.strip():
        raise ValueError(f"{name} must be a non-empty string")
    return prompt


def _frames_text(frames: tuple[float, float] | None) -> str:
    return "" if frames is None else f"{frames[0]:.2f}-{frames[1]:.2f}"


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns separated by two spaces; the last column is not padded."""
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
    lines = []
    for row in (header, *rows):
        cells = [str(c).ljust(w) for c, w in zip(row[:-1], widths[:-1], strict=True)] + [str(row[-1])]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def questions_table(questions: Sequence[EvalQuestion], answers: Sequence[EvalAnswer] | None = None,
                    scores: Sequence[float | None] | None = None) -> str:
    """Questions with their tuples, parents, categories and frames; answers and scores when given
    (an unanswerable question shows as such, with no confidence and no score)."""
    header = ["id", "category", "tuple", "parents", "frames"]
    if answers is not None:
        header += ["answer", "conf", "score"]
    header.append("question")
    rows = []
    for i, q in enumerate(questions):
        row = [str(q.id), q.category, q.tuple_text(), ",".join(map(str, q.parents)) or "-",
               _frames_text(q.frames) or "-"]
        if answers is not None:
            a = answers[i]
            score = "-" if scores is None or scores[i] is None else f"{scores[i]:.0f}"
            row += [a.label, f"{a.confidence:.2f}" if a.answered else "-", score]
        row.append(q.text)
        rows.append(row)
    return format_table(header, rows)
