"""`t2v questions "prompt"`: show the atomic questions the evaluator would ask about a prompt."""

from __future__ import annotations

import argparse
import json
from typing import Any

from .eval_common import add_llm_arguments, check_prompt, llm_failures_named, make_generator, questions_table


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "questions",
        help="print the atomic yes/no questions generated from a prompt",
        description="Parse a prompt into a scene graph and print the atomic yes/no questions that "
                    "`t2v evaluate` asks about a video: each with its DSG tuple, parent questions and "
                    "ETVA category.",
    )
    parser.add_argument("prompt", help="the text prompt, e.g. \"a big red circle moving left\"")
    parser.add_argument("--json", action="store_true",
                        help="print the scene graph and questions as JSON instead of a table")
    add_llm_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    prompt = check_prompt(args.prompt)
    with llm_failures_named():
        graph, questions = make_generator(args).generate(prompt)
    if args.json:
        payload = {"prompt": prompt, "scene_graph": graph.to_dict(),
                   "questions": [q.to_dict() | {"tuple_text": q.tuple_text()} for q in questions]}
        print(json.dumps(payload, indent=2, ensure_ascii=False))
        return 0
    if not questions:
        print(f"No questions could be generated from {prompt!r}.")
        return 0
    print(questions_table(questions))
    return 0
