"""Answerers: the multi-stage prompt and its parsing, the OpenAI vision answerer against a real local
server, the video LLM answerer on a tiny random Qwen-VL, and the shapes-world oracle answerer."""

from __future__ import annotations

import base64
import copy
import io

import numpy as np
import pytest
import torch

from t2v.eval.answerers import (
    OpenAIVisionAnswerer,
    VideoLLMAnswerer,
    sample_frames,
    uniform_indices,
)
from t2v.eval.reasoning import parse_verdict
from t2v.eval.types import EvalQuestion, SceneGraph
from tests.chat_server import ChatServer, Recorded
from tests.tiny_chat_models import build_tiny_qwen_vl

GRAPH = SceneGraph(prompt="a red circle")
CIRCLE = EvalQuestion(1, "Is there a red circle?", "existence", ("entity", "whole", "circle"))
SQUARE = EvalQuestion(2, "Is there a blue square?", "existence", ("entity", "whole", "square"))


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("T2V_CACHE", str(tmp_path / "t2v-cache"))


def numbered_frames(count: int, size: int = 32) -> np.ndarray:
    """Frames whose pixels all equal their index, so a sampled frame tells which one it was."""
    return np.stack([np.full((size, size, 3), i, np.uint8) for i in range(count)])


def decode_png(url: str) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))))


# -- sampling and parsing ---------------------------------------------------------------------

@pytest.mark.parametrize(("total", "count", "expected"), [
    (10, 4, [0, 3, 6, 9]), (16, 8, [0, 2, 4, 6, 9, 11, 13, 15]), (5, 8, [0, 1, 2, 3, 4]), (9, 1, [4]),
    (3, 3, [0, 1, 2]),
])
def test_uniform_indices(total, count, expected):
    assert uniform_indices(total, count) == expected


def test_sample_frames_returns_the_frames_at_the_indices():
    frames = numbered_frames(10, size=2)
    sampled, indices = sample_frames(frames, 4)
    assert indices == [0, 3, 6, 9]
    assert [int(f[0, 0, 0]) for f in sampled] == indices


@pytest.mark.parametrize(("reply", "label"), [
    ("The circle is red. [YES]", "yes"),
    ("nothing red here [no]", "no"),
    ("looks right [ Yes ]\n", "yes"),
    ("At first [YES], but on reflection [NO]", "no"),
    ("Yes, definitely.", "unanswerable"),  # no tag: no verdict either way, not a "no"
    ("", "unanswerable"),
])
def test_parse_verdict(reply, label):
    answer = parse_verdict(reply)
    assert answer.label == label and answer.answered == (label != "unanswerable")
    if answer.answered:
        assert answer.confidence == 1.0
    else:
        assert "no [YES]/[NO] verdict" in answer.rationale


# -- the OpenAI-compatible vision answerer ------------------------------------------------------

def vision_judge(request: Recorded) -> str:
    """A deterministic 'vision model': describes, reflects, and says yes only to circle questions."""
    last = request.last_user_text()
    if "Step 1" in last:
        return f"I see {len(request.image_urls())} frames of a red circle."
    if "Step 2" in last:
        return "The description matches a circle."
    if "Step 3" in last:
        return "A circle is visible. [YES]" if "circle" in last else "No square appears. [NO]"
    if "Answer in three steps" in last:
        return "1. a circle 2. consistent 3. [YES]" if "circle" in last else "1. 2. 3. nothing decisive"
    return "unexpected request"


def test_openai_answerer_runs_three_stages_with_the_sampled_frames():
    frames = numbered_frames(10)
    with ChatServer(vision_judge) as server:
        answerer = OpenAIVisionAnswerer(server.base_url, "vision-model", num_frames=4, use_cache=False)
        answers = answerer.answer(frames, [CIRCLE, SQUARE], prompt=GRAPH.prompt, graph=GRAPH,
                                  knowledge="A circle is round.")
    assert [(a.yes, a.confidence) for a in answers] == [(True, 1.0), (False, 1.0)]
    assert "description: I see 4 frames" in answers[0].rationale and "[YES]" in answers[0].rationale
    requests = server.chat_requests
    assert len(requests) == 6  # three stages per question
    for request in requests:
        assert request.body["model"] == "vision-model"
        urls = request.image_urls()
        assert [int(decode_png(u)[0, 0, 0]) for u in urls] == [0, 3, 6, 9]
    circle_stages = [r.last_user_text() for r in requests[:3]]
    assert all("Is there a red circle?" in text for text in circle_stages)
    assert "A circle is round." in circle_stages[1] and "A circle is round." not in circle_stages[0]
    # Each turn carries the conversation so far.
    assert [len(r.messages()) for r in requests[:3]] == [2, 4, 6]
    assert requests[2].messages()[2]["content"] == "I see 4 frames of a red circle."
    assert requests[2].messages()[4]["content"] == "The description matches a circle."


def test_openai_answerer_single_turn_and_missing_tag():
    with ChatServer(vision_judge) as server:
        answerer = OpenAIVisionAnswerer(server.base_url, "m", num_frames=2, reasoning="single-turn",
                                        use_cache=False)
        answers = answerer.answer(numbered_frames(5), [CIRCLE, SQUARE], prompt="p", graph=GRAPH)
    assert len(server.chat_requests) == 2
    assert (answers[0].yes, answers[0].confidence) == (True, 1.0)
    assert answers[1].label == "unanswerable" and "no [YES]/[NO] verdict" in answers[1].rationale


def test_openai_answerer_multi_turn_without_a_verdict_is_unanswerable():
    with ChatServer(lambda r: "It is hard to say.") as server:
        answer = OpenAIVisionAnswerer(server.base_url, "m", num_frames=2, use_cache=False).answer(
            numbered_frames(3), [CIRCLE], prompt="p", graph=GRAPH)[0]
    assert len(server.chat_requests) == 3
    assert not answer.answered and answer.rationale.startswith("description: It is hard to say.")


def test_openai_answerer_shrinks_large_frames_and_takes_a_backend():
    from t2v.llm import OpenAIChatBackend

    frames = np.zeros((3, 64, 96, 3), np.uint8)
    with ChatServer(lambda r: "[NO]") as server:
        backend = OpenAIChatBackend(server.base_url, "m", use_cache=False)
        answer = OpenAIVisionAnswerer(backend, num_frames=8, max_side=48, reasoning="single-turn").answer(
            frames, [CIRCLE], prompt="p", graph=GRAPH)[0]
    assert not answer.yes
    shapes = [decode_png(u).shape for u in server.chat_requests[0].image_urls()]
    assert shapes == [(32, 48, 3)] * 3


def test_openai_answerer_rejects_bad_arguments():
    with pytest.raises(ValueError, match="num_frames"):
        OpenAIVisionAnswerer("http://127.0.0.1:9/v1", num_frames=0)
    with pytest.raises(ValueError, match="reasoning"):
        OpenAIVisionAnswerer("http://127.0.0.1:9/v1", reasoning="deep")
    with pytest.raises(ValueError, match="base_url"):
        OpenAIVisionAnswerer("not a url")
    with pytest.raises(ValueError, match="backend"):
        OpenAIVisionAnswerer(object())
    answerer = OpenAIVisionAnswerer("http://127.0.0.1:9/v1", "m")
    with pytest.raises(ValueError, match="frames"):
        answerer.answer(np.zeros((4, 8, 8, 3), np.float32), [CIRCLE], prompt="p", graph=GRAPH)
    with pytest.raises(ValueError, match="frames"):
        answerer.answer(np.zeros((8, 8, 3), np.uint8), [CIRCLE], prompt="p", graph=GRAPH)
    with pytest.raises(ValueError, match=r"questions\[0\]"):
        answerer.answer(np.zeros((2, 8, 8, 3), np.uint8), ["Is it?"], prompt="p", graph=GRAPH)


# -- the transformers video LLM answerer (tiny random Qwen-VL) -------------------------------

@pytest.fixture(scope="module")
def tiny_vl_dir(tmp_path_factory):
    return build_tiny_qwen_vl(tmp_path_factory.mktemp("tiny-vl") / "qwen2_5_vl")


@pytest.fixture(scope="module")
def tiny_vl(tiny_vl_dir):
    from t2v.eval.vlm_loading import load_vision_language_model

    return load_vision_language_model(tiny_vl_dir, device="cpu")


def record_vision_calls(model) -> list[torch.Tensor]:
    """The ``grid_thw`` of every vision-tower call (one row per image or video)."""
    calls: list[torch.Tensor] = []

    def hook(module, args, kwargs, output):
        calls.append(kwargs.get("grid_thw", args[1] if len(args) > 1 else None))

    model.model.visual.register_forward_hook(hook, with_kwargs=True)
    return calls


def test_video_llm_loads_from_a_folder_and_answers(tiny_vl_dir):
    from transformers.utils import is_torchvision_available

    answerer = VideoLLMAnswerer(tiny_vl_dir, num_frames=3, max_new_tokens=4, device="cpu")
    answers = answerer.answer(numbered_frames(8), [CIRCLE], prompt="p", graph=GRAPH)
    model, processor = answerer.load()
    assert type(model).__name__ == "Qwen2_5_VLForConditionalGeneration"
    assert answerer.visual_mode() == ("video" if is_torchvision_available() else "images")
    assert len(answers) == 1 and answers[0].rationale.startswith("description: ")


def test_video_llm_multi_stage_generation_sees_the_sampled_frames(tiny_vl):
    model, processor = copy.deepcopy(tiny_vl)
    calls = record_vision_calls(model)
    answerer = VideoLLMAnswerer.from_components(model, processor, num_frames=4, max_new_tokens=5,
                                                visual_input="images")
    answers = answerer.answer(numbered_frames(12), [CIRCLE, SQUARE], prompt="p", graph=GRAPH,
                              knowledge="Circles are round.")
    assert len(calls) == 6  # 2 questions x 3 stages, the frames encoded at each stage's prefill
    assert all(grid.shape[0] == 4 and int(grid[:, 0].max()) == 1 for grid in calls)  # 4 single images
    for answer in answers:
        conclusion = answer.rationale.split("conclusion: ", 1)[1]
        expected = parse_verdict(conclusion)
        assert (answer.yes, answer.confidence) == (expected.yes, expected.confidence)
        assert 0.0 <= answer.confidence <= 1.0


def test_video_llm_prompt_holds_one_placeholder_per_image_and_the_knowledge(tiny_vl):
    model, processor = tiny_vl
    answerer = VideoLLMAnswerer.from_components(model, processor, num_frames=3, visual_input="images")
    messages = [{"role": "system", "content": "judge"}, {"role": "user", "content": "Is there a circle? Circles roll."},
                {"role": "assistant", "content": "maybe"}, {"role": "user", "content": "Sure?"}]
    inputs = answerer.model_inputs(messages, numbered_frames(3, size=64))
    tokens_per_image = int(inputs["image_grid_thw"][0].prod()) // processor.image_processor.merge_size ** 2
    image_token = processor.tokenizer.convert_tokens_to_ids("<|image_pad|>")
    assert inputs["image_grid_thw"].shape[0] == 3
    assert int((inputs["input_ids"] == image_token).sum()) == 3 * tokens_per_image
    text = processor.tokenizer.decode(inputs["input_ids"][0], skip_special_tokens=True)
    assert "Circles roll." in text and "Sure?" in text


def test_video_llm_logits_score_is_a_probability(tiny_vl):
    model, processor = tiny_vl
    answerer = VideoLLMAnswerer.from_components(model, processor, num_frames=2, score="logits")
    answers = answerer.answer(numbered_frames(6), [CIRCLE, SQUARE], prompt="p", graph=GRAPH, knowledge="k")
    for answer in answers:
        p_yes = answer.confidence if answer.yes else 1.0 - answer.confidence
        assert 0.0 <= p_yes <= 1.0 and answer.confidence >= 0.5
        assert f"P(yes)={p_yes:.3f}" in answer.rationale


def test_video_llm_logits_softmax_is_over_the_yes_and_no_tokens(tiny_vl):
    model, processor = copy.deepcopy(tiny_vl)
    answerer = VideoLLMAnswerer.from_components(model, processor, num_frames=2, score="logits")
    yes, no = answerer.yes_no_token_ids()
    assert processor.tokenizer.convert_ids_to_tokens(yes[:1]) != processor.tokenizer.convert_ids_to_tokens(no[:1])
    head = model.get_output_embeddings().weight
    with torch.no_grad():  # every yes/no spelling gets the same logit: P(yes) = #yes / (#yes + #no)
        head[yes + no] = head[no[0]].clone()
    p = answerer.p_yes(CIRCLE.text, numbered_frames(2), None)
    assert p == pytest.approx(len(yes) / (len(yes) + len(no)), abs=1e-5)


def test_video_llm_qwen2_vl_also_runs(tmp_path):
    folder = build_tiny_qwen_vl(tmp_path / "qwen2_vl", version="2")
    answerer = VideoLLMAnswerer(folder, num_frames=2, score="logits", device="cpu")
    (answer,) = answerer.answer(numbered_frames(4), [CIRCLE], prompt="p", graph=GRAPH)
    assert type(answerer.load()[0]).__name__ == "Qwen2VLForConditionalGeneration"
    assert 0.5 <= answer.confidence <= 1.0


def test_video_llm_rejects_bad_arguments(tmp_path, tiny_vl):
    from transformers.utils import is_torchvision_available

    with pytest.raises(ValueError, match="model_name_or_path"):
        VideoLLMAnswerer(tmp_path / "missing")
    for option, value in [("num_frames", 0), ("score", "probability"), ("reasoning", "x"), ("visual_input", "gif"),
                          ("max_new_tokens", 0), ("dtype", "float77")]:
        with pytest.raises(ValueError, match=option):
            VideoLLMAnswerer(tmp_path, **{option: value})
    with pytest.raises(ValueError, match="config.json"):
        VideoLLMAnswerer(tmp_path).load()
    if not is_torchvision_available():
        model, processor = tiny_vl
        with pytest.raises(ValueError, match="torchvision"):
            VideoLLMAnswerer.from_components(model, processor, visual_input="video").visual_mode()


# -- the shapes-world oracle ------------------------------------------------------------------

def shapes_scene():
    """A scene graph and questions in the rule-based generator's format, with the clip that shows it."""
    from t2v.eval.types import Entity, Relation
    from t2v.world.render import render
    from t2v.world.spec import ShapeObject, WorldSpec

    graph = SceneGraph(
        prompt="a big red circle above a small blue square on a gray background",
        entities=[Entity("e1", "circle", attributes={"color": ["red"], "size": ["big"]}),
                  Entity("e2", "square", attributes={"color": ["blue"], "size": ["small"]}),
                  Entity("e3", "background", kind="background", attributes={"color": ["gray"]})],
        relations=[Relation("e1", "above", "e2", kind="spatial")],
    )
    questions = [
        EvalQuestion(1, "Is there a circle?", "existence", ("entity", "whole", "circle"), entities=("e1",)),
        EvalQuestion(2, "Is the circle red?", "color", ("attribute", "color", "circle", "red"), [1], entities=("e1",)),
        EvalQuestion(3, "Is there a square?", "existence", ("entity", "whole", "square"), entities=("e2",)),
        EvalQuestion(4, "Is the square blue?", "color", ("attribute", "color", "square", "blue"), [3],
                     entities=("e2",)),
        EvalQuestion(5, "Is the circle above the square?", "spatial",
                     ("relation", "spatial", "circle", "square", "above"), [1, 3], entities=("e1", "e2")),
        EvalQuestion(6, "Is the background gray?", "color", ("attribute", "color", "background", "gray"),
                     entities=("e3",)),
        EvalQuestion(7, "Is the circle wooden?", "material", ("attribute", "material", "circle", "wooden"), [1],
                     entities=("e1",)),
        EvalQuestion(8, "Is the square green?", "color", ("attribute", "color", "square", "green"), [3],
                     entities=("e2",)),
    ]
    spec = WorldSpec(objects=(ShapeObject("circle", "red", "big", "still", 0.5, 0.27),
                              ShapeObject("square", "blue", "small", "still", 0.5, 0.75)),
                     background="gray", relation="above", frames=8, size=64)
    return graph, questions, render(spec), spec


def test_oracle_answerer_reads_a_rendered_clip():
    from t2v.eval.answerers import NOT_EXPRESSIBLE, OracleAnswerer

    graph, questions, frames, _ = shapes_scene()
    answers = OracleAnswerer().answer(frames, questions, prompt=graph.prompt, graph=graph)
    # "Is the circle wooden?" is outside the shapes world: unanswerable, not a "no".
    assert [a.label for a in answers] == ["yes"] * 6 + ["unanswerable", "no"]
    assert all(a.confidence > 0.5 for i, a in enumerate(answers) if i != 6)
    assert answers[6].rationale == NOT_EXPRESSIBLE
    assert "shapes-world oracle" in answers[1].rationale


def test_oracle_answerer_confidence_is_the_probability_of_its_verdict():
    from t2v.eval.answerers import OracleAnswerer
    from t2v.eval.world_bridge import to_world_question
    from t2v.world.oracle import ShapesOracle

    graph, questions, frames, _ = shapes_scene()
    oracle = ShapesOracle()
    answers = OracleAnswerer(oracle).answer(frames, questions, prompt=graph.prompt, graph=graph)
    for q, answer in zip(questions, answers, strict=True):
        world = to_world_question(q, graph, num_frames=len(frames))
        if world is None:
            continue
        p_yes = oracle.answer(frames, world).p_yes
        assert answer.yes == (p_yes >= 0.5)
        assert answer.confidence == pytest.approx(p_yes if answer.yes else 1.0 - p_yes)


def test_oracle_answerer_says_no_to_a_clip_that_does_not_match():
    from dataclasses import replace

    from t2v.eval.answerers import OracleAnswerer
    from t2v.world.render import render

    graph, questions, _, spec = shapes_scene()
    swapped = replace(spec, objects=(replace(spec.objects[0], color="green"), spec.objects[1]))
    answers = OracleAnswerer().answer(render(swapped), questions[:4], prompt=graph.prompt, graph=graph)
    # The bridge asks existence of the described object ("a red circle"), so both circle questions fail.
    assert [a.yes for a in answers] == [False, False, True, True]


def test_oracle_answerer_rejects_bad_input():
    from t2v.eval.answerers import OracleAnswerer

    graph, questions, frames, _ = shapes_scene()
    with pytest.raises(ValueError, match="oracle"):
        OracleAnswerer(oracle="strict")
    with pytest.raises(ValueError, match="frames"):
        OracleAnswerer().answer(frames[0], questions, prompt=graph.prompt, graph=graph)
    assert OracleAnswerer().answer(frames, [], prompt=graph.prompt, graph=graph) == []
