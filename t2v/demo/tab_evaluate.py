"""Evaluate: a video and its prompt → atomic questions, the answers, scores per category and the HTML report
(``t2v.eval.evaluator.Evaluator`` with the shapes-world oracle, as ``t2v evaluate`` runs by default)."""

from __future__ import annotations

import functools

import gradio as gr

from t2v.eval.scoring import coverage_text, score_text

from .context import DemoContext
from .inputs import text
from .runs import page_errors
from .uploads import read_video_upload
from .widgets import TRACK_TQDM, run_buttons, wire

EVALUATE_GROUP = "evaluate"  # the oracle runs on the CPU, beside the device's generations


def scores_rows(scores) -> list[list[str]]:
    return [["DSG score", score_text(scores.dsg)], ["Yes-rate (ETVA)", score_text(scores.yes_rate)],
            ["Confidence-weighted yes-rate", score_text(scores.weighted_yes_rate)],
            ["Coverage (answered ÷ asked)", coverage_text(scores.num_answered, scores.num_questions)]]


def category_rows(scores) -> list[list[object]]:
    return [[c, scores.category_counts[c], scores.category_answered[c], score_text(v)]
            for c, v in scores.per_category.items()]


def question_rows(result) -> list[list[object]]:
    return [[q.id, q.category, q.text, a.label, f"{a.confidence:.2f}" if a.answered else "-",
             "-" if s is None else f"{s:.0f}"]
            for q, a, s in zip(result.questions, result.answers, result.scores.question_scores, strict=True)]


def build(ctx: DemoContext) -> None:
    @functools.cache
    def evaluator():
        """Made on first use: the question generator loads its parser then, not while the app starts."""
        from t2v.eval.evaluator import Evaluator

        return Evaluator()

    with gr.Tab("Evaluate", id="evaluate", elem_id="tab-evaluate"):
        with gr.Row():
            with gr.Column():
                video = gr.Video(label="Video (.mp4 or .gif)", sources=["upload"], format=None)
                prompt = gr.Textbox(label="Prompt the video should match", lines=2)
                go, cancel = run_buttons("Evaluate")
                gr.Examples([[ctx.sample("red_ball_right"), "a big red ball moves right on a black background"],
                             [ctx.sample("blue_square_down"), "a big red ball moves right on a black background"]],
                            [video, prompt], label="Examples (click one, then Evaluate)")
            with gr.Column():
                scores = gr.Dataframe(headers=["score", "value"], type="array", interactive=False, label="Scores",
                                      elem_id="evaluate-scores")
                categories = gr.Dataframe(headers=["category", "questions", "answered", "DSG score"], type="array",
                                          interactive=False, label="Per category")
                files = gr.File(label="Downloads (HTML report, JSON)", file_count="multiple", interactive=False)
        questions = gr.Dataframe(headers=["#", "category", "question", "answer", "confidence", "score"],
                                 type="array", interactive=False, label="Questions and answers", wrap=True)

        @page_errors
        def evaluate_video(path: str | None, prompt_text: str,
                           progress: gr.Progress = TRACK_TQDM) -> tuple:
            from t2v.eval.report import write_html, write_json

            prompt_ = text(prompt_text, "Prompt")
            frames = read_video_upload(path, "Video", ctx.workspace, ctx.limits)
            result = evaluator().evaluate(frames, prompt_)
            folder = ctx.workspace.new_run("evaluate")
            report = write_html(result, folder / "report.html")
            data = write_json(result, folder / "results.json")
            return (scores_rows(result.scores), category_rows(result.scores), [str(report), str(data)],
                    question_rows(result))

        wire(ctx, go, cancel, evaluate_video, [video, prompt], [scores, categories, files, questions],
             group=EVALUATE_GROUP)
