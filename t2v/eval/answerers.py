"""Answerers: read a video and answer the evaluator's atomic yes/no questions.

All share one call, ``answer(frames, questions, *, prompt, graph, knowledge=None)`` with uint8
``(F, H, W, 3)`` frames, returning one :class:`EvalAnswer` per question in order:

- :class:`OracleAnswerer` — the shapes world's exact pixel reader, through the question bridge.
  The default on the embedded model; needs nothing.
- :class:`VideoLLMAnswerer` — a local transformers vision-language model (Qwen2-VL / Qwen2.5-VL
  class) with ETVA's multi-stage reasoning, or P(yes) from its next-token logits.
- :class:`OpenAIVisionAnswerer` — the same reasoning against an OpenAI-compatible vision endpoint.

``EvalAnswer.confidence`` is the answerer's confidence in the verdict it gives, so P(yes) is
``confidence`` for a "yes" and ``1 - confidence`` for a "no" (the scorer's convention).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from .reasoning import (
    REASONING_MODES,
    SYSTEM_PROMPT,
    conclusion_prompt,
    direct_prompt,
    parse_verdict,
    reflection_prompt,
    single_turn_prompt,
    understanding_prompt,
)
from .types import EvalAnswer, EvalQuestion, SceneGraph

logger = logging.getLogger(__name__)

DEFAULT_NUM_FRAMES = 8
SCORE_MODES: tuple[str, ...] = ("generate", "logits")
VISUAL_INPUTS: tuple[str, ...] = ("auto", "video", "images")
# Why the oracle abstains on a question the shapes world cannot express.
NOT_EXPRESSIBLE = "not expressible in the shapes world"
YES_WORDS: tuple[str, ...] = ("yes", "Yes", "YES", " yes", " Yes", " YES")
NO_WORDS: tuple[str, ...] = ("no", "No", "NO", " no", " No", " NO")

Message = dict[str, str]


# -- inputs ---------------------------------------------------------------------------------

def check_frames(frames: Any) -> np.ndarray:
    """uint8 ``(F, H, W, 3)`` frames with F >= 1, or a ValueError naming ``frames``."""
    array = np.asarray(frames)
    if array.dtype != np.uint8:
        raise ValueError(f"frames must be uint8, got dtype {array.dtype}")
    if array.ndim != 4 or array.shape[-1] != 3 or 0 in array.shape:
        raise ValueError(f"frames must have shape (F, H, W, 3) with F >= 1, got {array.shape}")
    return array


def check_questions(questions: Sequence[EvalQuestion]) -> list[EvalQuestion]:
    if isinstance(questions, (str, bytes)) or not isinstance(questions, Sequence):
        raise ValueError("questions must be a list of EvalQuestion")
    for i, q in enumerate(questions):
        if not isinstance(q, EvalQuestion):
            raise ValueError(f"questions[{i}] must be an EvalQuestion, got {type(q).__name__}")
    return list(questions)


def check_positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def check_choice(name: str, value: Any, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {list(allowed)}, got {value!r}")
    return value


def uniform_indices(total: int, count: int) -> list[int]:
    """``count`` indices spread evenly over ``total`` frames, first and last included (all if fewer)."""
    if count >= total:
        return list(range(total))
    if count == 1:
        return [total // 2]
    return [int(round(i)) for i in np.linspace(0, total - 1, count)]


def sample_frames(frames: np.ndarray, count: int) -> tuple[np.ndarray, list[int]]:
    """The evenly spaced frames a video LLM sees, and their indices in the clip."""
    indices = uniform_indices(len(frames), count)
    return frames[indices], indices


# -- the shapes-world oracle ----------------------------------------------------------------

class OracleAnswerer:
    """The shapes-world oracle as an answerer.

    Each question is translated by :func:`t2v.eval.world_bridge.to_world_question`; the clip is
    analysed once and every translated question answered from that reading. A question the
    bridge cannot translate (e.g. about materials or physics, which the shapes world does not
    have) is unanswerable (:meth:`EvalAnswer.unanswerable`, rationale ``"not expressible in the
    shapes world"``): the oracle has no evidence either way, so the question is left out of the
    score rather than counted as a "no". Knowledge is ignored: the oracle is exact.

    Args:
        oracle: a :class:`t2v.world.oracle.ShapesOracle` (e.g. with tuned settings); None builds the default.
    """

    def __init__(self, oracle: Any = None) -> None:
        if oracle is not None and not callable(getattr(oracle, "answer_many", None)):
            raise ValueError("oracle must be a ShapesOracle (an object with answer_many) or None")
        self._oracle = oracle

    @property
    def oracle(self) -> Any:
        if self._oracle is None:
            from t2v.world.oracle import ShapesOracle

            self._oracle = ShapesOracle()
        return self._oracle

    def answer(self, frames: np.ndarray, questions: Sequence[EvalQuestion], *, prompt: str, graph: SceneGraph,
               knowledge: str | None = None) -> list[EvalAnswer]:
        from .world_bridge import to_world_question

        frames = check_frames(frames)
        questions = check_questions(questions)
        world = [to_world_question(q, graph, num_frames=len(frames)) for q in questions]
        asked = [w for w in world if w is not None]
        verdicts = iter(self.oracle.answer_many(frames, asked) if asked else [])
        answers = []
        for w in world:
            if w is None:
                answers.append(EvalAnswer.unanswerable(NOT_EXPRESSIBLE))
                continue
            verdict = next(verdicts)
            # The oracle's confidence is |2 P(yes) - 1|; the evaluator's is P(the verdict given).
            p_yes = float(verdict.p_yes)
            confidence = p_yes if verdict.yes else 1.0 - p_yes
            answers.append(EvalAnswer(yes=bool(verdict.yes), confidence=confidence,
                                      rationale=f"shapes-world oracle on: {w.text()} (P(yes)={p_yes:.2f})"))
        return answers


# -- ETVA's multi-stage reasoning, shared by the generative answerers ----------------------

def staged_answer(reply: Callable[[list[Message]], str], question: str, knowledge: str | None,
                  reasoning: str) -> EvalAnswer:
    """Walk a model through understanding → reflection → conclusion and parse its verdict.

    ``reply(messages)`` returns the model's next message; the video goes with the first user
    message. ``reasoning="multi-turn"`` asks each stage in its own turn (three calls);
    ``"single-turn"`` asks for all three in one reply.
    """
    messages: list[Message] = [{"role": "system", "content": SYSTEM_PROMPT}]
    if reasoning == "single-turn":
        messages.append({"role": "user", "content": single_turn_prompt(question, knowledge)})
        return parse_verdict(reply(messages))
    stages = [understanding_prompt(question), reflection_prompt(question, knowledge), conclusion_prompt(question)]
    replies: list[str] = []
    for stage in stages:
        messages.append({"role": "user", "content": stage})
        replies.append(reply(messages))
        messages.append({"role": "assistant", "content": replies[-1]})
    verdict = parse_verdict(replies[-1])
    transcript = (f"description: {replies[0].strip()}\nreflection: {replies[1].strip()}\n"
                  f"conclusion: {replies[2].strip()}")
    return replace(verdict, rationale=transcript)  # an abstention stays one


# -- a local transformers vision-language model ------------------------------------------

class VideoLLMAnswerer:
    """A transformers vision-language model (Qwen2-VL / Qwen2.5-VL class) answering from sampled frames.

    Args:
        model_name_or_path: local model folder (safetensors weights, processor files, chat template).
        num_frames: frames sampled evenly from the clip (first and last included).
        score: ``"generate"`` — ETVA's multi-stage reasoning ending in ``[YES]``/``[NO]`` (confidence 1,
            or unanswerable when the reply has no tag); ``"logits"`` — one direct question,
            P(yes) = softmax over the next-token logits of "yes" vs "no" (all single-token spellings).
        reasoning: ``"multi-turn"`` (one model turn per stage) or ``"single-turn"`` (``score="generate"`` only).
        visual_input: ``"video"`` passes the frames as one video, ``"images"`` as a sequence of images,
            ``"auto"`` uses video when the processor has a video processor (Qwen's needs torchvision).
        max_new_tokens: the length limit of each generated stage.
        device, dtype: where and in what precision to load the model (None: CUDA if available; saved dtype).

    The model loads on the first call; :meth:`from_components` wraps an already loaded model.
    """

    def __init__(self, model_name_or_path: str | os.PathLike[str] | None, *, num_frames: int = DEFAULT_NUM_FRAMES,
                 score: str = "generate", reasoning: str = "multi-turn", visual_input: str = "auto",
                 max_new_tokens: int = 256, device: str | None = None, dtype: Any = None) -> None:
        from t2v.llm import resolve_dtype

        if model_name_or_path is not None:
            path = Path(model_name_or_path).expanduser()
            if not path.is_dir():
                raise ValueError(f"model_name_or_path must be an existing model folder, got {str(path)!r}")
            self.path: Path | None = path
        else:
            self.path = None
        self.num_frames = check_positive_int("num_frames", num_frames)
        self.score = check_choice("score", score, SCORE_MODES)
        self.reasoning = check_choice("reasoning", reasoning, REASONING_MODES)
        self.visual_input = check_choice("visual_input", visual_input, VISUAL_INPUTS)
        self.max_new_tokens = check_positive_int("max_new_tokens", max_new_tokens)
        self.device = device
        self.dtype = resolve_dtype(dtype)
        self._model: Any = None
        self._processor: Any = None
        self._yes_no: tuple[list[int], list[int]] | None = None

    @classmethod
    def from_components(cls, model: Any, processor: Any, **settings: Any) -> VideoLLMAnswerer:
        """An answerer around a loaded model and processor (``settings`` as for the constructor)."""
        if model is None or processor is None:
            raise ValueError("model and processor must both be given")
        answerer = cls(None, **settings)
        answerer._model, answerer._processor = model, processor
        return answerer

    def load(self) -> tuple[Any, Any]:
        """Load (once) and return ``(model, processor)``."""
        if self._model is None:
            if self.path is None:
                raise ValueError("model_name_or_path is required unless built with from_components")
            from .vlm_loading import load_vision_language_model

            self._model, self._processor = load_vision_language_model(self.path, device=self.device,
                                                                      dtype=self.dtype)
        return self._model, self._processor

    def visual_mode(self) -> str:
        """``"video"`` or ``"images"``: how the frames reach the model."""
        _, processor = self.load()
        has_video = getattr(processor, "video_processor", None) is not None
        if self.visual_input == "video" and not has_video:
            raise ValueError("visual_input='video' needs a processor with a video processor (transformers' "
                             "Qwen-VL video processor needs torchvision); use 'images' or 'auto'")
        if self.visual_input == "auto":
            return "video" if has_video else "images"
        return self.visual_input

    def model_inputs(self, messages: list[Message], frames: np.ndarray) -> Any:
        """The processor's tensors for a conversation whose first user message shows ``frames``."""
        from PIL import Image

        model, processor = self.load()
        mode = self.visual_mode()
        visual = [{"type": "video"}] if mode == "video" else [{"type": "image"} for _ in frames]
        chat, shown = [], False
        for message in messages:
            parts: list[dict[str, Any]] = [{"type": "text", "text": message["content"]}]
            if message["role"] == "user" and not shown:
                parts, shown = visual + parts, True
            chat.append({"role": message["role"], "content": parts})
        text = processor.apply_chat_template(chat, add_generation_prompt=True, tokenize=False)
        media = {"videos": [frames]} if mode == "video" else {"images": [Image.fromarray(f) for f in frames]}
        return processor(text=[text], return_tensors="pt", **media).to(model.device)

    def generate_reply(self, messages: list[Message], frames: np.ndarray) -> str:
        """The model's greedy reply to a conversation about ``frames``."""
        import torch

        model, processor = self.load()
        inputs = self.model_inputs(messages, frames)
        with torch.no_grad():
            output = model.generate(**inputs, max_new_tokens=self.max_new_tokens, do_sample=False)
        new_tokens = output[:, inputs["input_ids"].shape[1]:]
        return processor.batch_decode(new_tokens, skip_special_tokens=True)[0].strip()

    def yes_no_token_ids(self) -> tuple[list[int], list[int]]:
        """Ids of every single-token spelling of "yes" and of "no" in the tokenizer."""
        if self._yes_no is None:
            _, processor = self.load()
            tokenizer = getattr(processor, "tokenizer", processor)

            def single(words: Sequence[str]) -> list[int]:
                ids = {tuple(tokenizer.encode(w, add_special_tokens=False)) for w in words}
                return sorted(i[0] for i in ids if len(i) == 1)

            yes, no = single(YES_WORDS), single(NO_WORDS)
            if not yes or not no or set(yes) & set(no):
                raise ValueError("score='logits' needs single-token 'yes' and 'no' in the tokenizer; "
                                 "use score='generate'")
            self._yes_no = (yes, no)
        return self._yes_no

    def p_yes(self, question: str, frames: np.ndarray, knowledge: str | None) -> float:
        """P(yes) for a direct question: softmax over the "yes"/"no" next-token logits."""
        import torch

        model, _ = self.load()
        yes, no = self.yes_no_token_ids()
        messages = [{"role": "system", "content": SYSTEM_PROMPT},
                    {"role": "user", "content": direct_prompt(question, knowledge)}]
        inputs = self.model_inputs(messages, frames)
        with torch.no_grad():
            logits = model(**inputs).logits[0, -1].float()
        margin = torch.logsumexp(logits[yes], 0) - torch.logsumexp(logits[no], 0)
        return float(torch.sigmoid(margin))

    def answer(self, frames: np.ndarray, questions: Sequence[EvalQuestion], *, prompt: str, graph: SceneGraph,
               knowledge: str | None = None) -> list[EvalAnswer]:
        frames = check_frames(frames)
        questions = check_questions(questions)
        sampled, _ = sample_frames(frames, self.num_frames)
        answers = []
        for q in questions:
            if self.score == "logits":
                p = self.p_yes(q.text, sampled, knowledge)
                yes = p >= 0.5
                answers.append(EvalAnswer(yes=yes, confidence=p if yes else 1.0 - p,
                                          rationale=f"P(yes)={p:.3f} from the next-token logits of yes/no"))
            else:
                answers.append(staged_answer(lambda m: self.generate_reply(m, sampled), q.text, knowledge,
                                             self.reasoning))
        return answers


# -- an OpenAI-compatible vision endpoint ---------------------------------------------------

def shrink(frame: np.ndarray, max_side: int | None) -> np.ndarray:
    """``frame`` scaled down (never up) so that its longer side is at most ``max_side``."""
    height, width = frame.shape[:2]
    if max_side is None or max(height, width) <= max_side:
        return frame
    from PIL import Image

    scale = max_side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(frame).resize(size, Image.Resampling.BILINEAR))


class OpenAIVisionAnswerer:
    """ETVA's multi-stage reasoning on an OpenAI-compatible vision chat endpoint, fed sampled frames.

    Args:
        backend: an ``http(s)://host:port/v1`` URL (an :class:`~t2v.llm.OpenAIChatBackend` is built with
            ``model``) or a ready chat backend that accepts images.
        model: the model name to request when ``backend`` is a URL (None: the server's first model).
        num_frames: frames sampled evenly from the clip and sent as PNG images with the first message.
        reasoning: ``"multi-turn"`` (three calls per question) or ``"single-turn"`` (one call).
        max_tokens: the reply length limit of each call.
        max_side: frames larger than this are scaled down before sending (None: send as they are).
        backend_options: further :class:`~t2v.llm.OpenAIChatBackend` arguments when ``backend`` is a URL
            (``timeout``, ``max_retries``, ``cache_dir``, ``use_cache``, ``api_key``).
    """

    def __init__(self, backend: Any, model: str | None = None, *, num_frames: int = DEFAULT_NUM_FRAMES,
                 reasoning: str = "multi-turn", max_tokens: int = 512, max_side: int | None = 512,
                 **backend_options: Any) -> None:
        from t2v.llm import OpenAIChatBackend

        if isinstance(backend, (str, os.PathLike)):
            backend = OpenAIChatBackend(str(backend), model, **backend_options)
        elif model is not None or backend_options:
            raise ValueError("model and backend options are only used when backend is a URL")
        if not callable(getattr(backend, "chat", None)):
            raise ValueError("backend must be an http(s) URL or a chat backend with a chat() method")
        self.backend = backend
        self.num_frames = check_positive_int("num_frames", num_frames)
        self.reasoning = check_choice("reasoning", reasoning, REASONING_MODES)
        self.max_tokens = check_positive_int("max_tokens", max_tokens)
        self.max_side = None if max_side is None else check_positive_int("max_side", max_side)

    def answer(self, frames: np.ndarray, questions: Sequence[EvalQuestion], *, prompt: str, graph: SceneGraph,
               knowledge: str | None = None) -> list[EvalAnswer]:
        frames = check_frames(frames)
        questions = check_questions(questions)
        sampled, _ = sample_frames(frames, self.num_frames)
        images = [shrink(f, self.max_side) for f in sampled]

        def reply(messages: list[Message]) -> str:
            return self.backend.chat(messages, temperature=0.0, max_tokens=self.max_tokens, images=images)

        return [staged_answer(reply, q.text, knowledge, self.reasoning) for q in questions]
