"""Fine-tune: reward fine-tuning of a served model as a LoRA (``t2v.rewards.train.train``, as ``t2v finetune``
runs it), with the reward per step streamed from the run's log while it trains; then the base model and the
fine-tuned one on the same prompt and seed, side by side.

A run is small on purpose (a shared server): at most :data:`MAX_TRAIN_STEPS` steps, one fine-tune at a time
(its own concurrency group, and a lock the training thread holds until it has ended, so a run whose page was
closed still keeps the next one waiting), a fresh folder in the demo's workspace per run, and no validation
judge: the judge's question answering would add minutes to every validation, while the reward on held-out
prompts is logged anyway and the comparison below the run shows what changed. A training step has no cancel
hook, so a started run is not cancelled; the step bound keeps it short.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import MISSING, fields, replace
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np

from .context import DemoContext
from .inputs import integer, number, sampling, session, text
from .runs import page_errors, save_clip
from .widgets import TRACK_TQDM, run_buttons, sampling_controls, video_output, wire

FINETUNE_GROUP = "finetune"  # one fine-tune at a time, beside (not instead of) the device's generations
MAX_TRAIN_STEPS = 200
MAX_SCHEDULE_STEPS = 50
MAX_RANK = 32
LEARNING_RATES = (1e-6, 1e-2)
VALIDATION_PROMPTS = 4  # held-out prompts generated and rewarded at each validation
VALIDATE_EVERY = 25  # steps between validations (the trainer also validates at the last step)
POLL_S = 0.5
SAMPLE_PROMPT = "a big red ball moves right on a black background"
# The training handler's progress bar, set from the log (``train`` has no tqdm bar to track).
TRAIN_PROGRESS = gr.Progress()
LOG_FILE, PLOT_FILE, LORA_WEIGHTS = "log.jsonl", "curves.png", "pytorch_lora_weights.safetensors"
PROGRESS_PLOT = "progress.png"
logger = logging.getLogger(__name__)


def trainable_rewards() -> list[str]:
    """The registered rewards the trainer takes as its reward (differentiable, per frame) that load with no
    weights from the user."""
    from t2v.rewards import available_rewards, load_reward

    names = []
    for name in available_rewards():
        try:
            reward = load_reward(name)
        except Exception as err:  # weights of the user's own (FileNotFoundError), a package not installed, ...
            logger.info("Fine-tune tab: reward %s left out (%s: %s)", name, type(err).__name__, err)
            continue
        if reward.differentiable and reward.per_frame:
            names.append(name)
    return names


def config_field(name: str) -> tuple[Any, str]:
    """A :class:`~t2v.rewards.config.FinetuneConfig` field's default and help: the form says what the CLI says."""
    from t2v.rewards.config import FinetuneConfig

    for f in fields(FinetuneConfig):
        if f.name == name:
            default = f.default if f.default is not MISSING else f.default_factory()  # type: ignore[misc]
            return default, f.metadata.get("help", "")
    raise KeyError(name)


def read_log(folder: Path) -> list[dict]:
    """The complete training-step records of a run's ``log.jsonl`` so far (the trainer may be writing the next
    one); the base model's step-0 validation, which has no training reward, is left out."""
    try:
        data = (folder / LOG_FILE).read_text()
    except FileNotFoundError:
        return []
    records = []
    for line in data.split("\n")[:-1]:  # the last piece is '' or a line still being written
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if "reward" in record:
            records.append(record)
    return records


def _mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else float("nan")


def _validation(records: list[dict]) -> str:
    last = next((r for r in reversed(records) if "validation_reward" in r), None)
    return "" if last is None else (f" · validation reward {last['validation_reward']:.3f} "
                                    f"(step {last['step']}, {VALIDATION_PROMPTS} held-out prompts)")


class FinetuneTab:
    """The tab's two handlers and what they share: the rewards offered, the fine-tune lock, the loaded LoRA."""

    def __init__(self, ctx: DemoContext) -> None:
        self.ctx = ctx
        self.rewards = trainable_rewards()
        self.busy = threading.Lock()  # held by the training thread for as long as it runs
        self._tuned: tuple[tuple[str, str], Any] | None = None  # ((model, LoRA folder), pipeline): the last one
        self._tuned_lock = threading.Lock()
        self._reward_models: dict[str, Any] = {}

    # -- fine-tuning ------------------------------------------------------------------------------------------

    def config(self, model_name: str, reward: str, steps_value: float, rate_value: float, rank_value: float,
               noise_value: float, schedule_value: float) -> Any:
        """The run's :class:`FinetuneConfig` from the form, every value checked first (errors name the field);
        its ``output_dir`` is set once the run has its folder."""
        from t2v.rewards.config import FinetuneConfig

        if model_name not in self.ctx.models.names:
            raise ValueError(f"Model must be one of {list(self.ctx.models.names)}, got {model_name!r}")
        if reward not in self.rewards:
            raise ValueError(f"Reward must be one of {self.rewards}, got {reward!r}")
        steps = integer(steps_value, "Training steps", 1, MAX_TRAIN_STEPS)
        rate = number(rate_value, "Learning rate", *LEARNING_RATES)
        rank = integer(rank_value, "LoRA rank", 1, MAX_RANK)
        noise = number(noise_value, "Noise fraction", 0.0, 1.0)
        schedule = integer(schedule_value, "Schedule steps", 2, MAX_SCHEDULE_STEPS)
        if round(noise * schedule) < 1:  # nothing left to denoise: no gradient would reach the LoRA
            raise ValueError(f"Noise fraction × Schedule steps must leave at least one step to denoise; "
                             f"{noise:g} × {schedule} rounds to 0")
        batch = int(config_field("batch_size")[0])
        return FinetuneConfig(
            model=model_name, output_dir="", reward=reward,
            steps=steps, learning_rate=rate, lora_rank=rank, lora_alpha=float(rank),  # alpha = rank: scale 1
            noise_fraction=noise, num_inference_steps=schedule, warmup_steps=min(10, steps // 10),
            num_prompts=steps * batch, validation_judge="", num_validation_prompts=VALIDATION_PROMPTS,
            validation_every=VALIDATE_EVERY, checkpoint_every=steps, log_every=10)

    @page_errors
    def finetune(self, model_name: str, reward: str, steps_value: float, rate_value: float, rank_value: float,
                 noise_value: float, schedule_value: float,
                 progress: gr.Progress = TRAIN_PROGRESS) -> Iterator[tuple]:
        """Stream (status, curves image, LoRA folder, downloads, state) while ``train`` runs in a thread."""
        from t2v.plotting import line_chart
        from t2v.rewards.train import train

        cfg = self.config(model_name, reward, steps_value, rate_value, rank_value, noise_value, schedule_value)
        while not self.busy.acquire(timeout=POLL_S):
            yield "Waiting for the fine-tune before this one to finish…", gr.skip(), gr.skip(), gr.skip(), gr.skip()
        try:
            folder = self.ctx.workspace.new_run("finetune")
            cfg = replace(cfg, output_dir=str(folder))
        except BaseException:
            self.busy.release()
            raise
        outcome: dict[str, Any] = {}

        def run() -> None:
            try:
                outcome["lora"] = train(cfg)
            except BaseException as err:  # shown by the handler; the thread itself has no one to tell
                outcome["error"] = err
            finally:
                self.busy.release()

        thread = threading.Thread(target=run, name="t2v-demo-finetune", daemon=True)
        started = time.monotonic()
        thread.start()
        yield (f"Loading {model_name} and the {reward} reward; each step then samples a video and edits it…",
               None, "", None, gr.skip())
        seen = 0
        while thread.is_alive():
            thread.join(POLL_S)
            records = read_log(folder)
            if len(records) == seen:
                continue
            seen = len(records)
            os.utime(folder)  # a long run is not an old run: the janitor goes by the folder's time
            progress((seen, cfg.steps), desc="Fine-tuning", unit="steps")
            rewards = [r["reward"] for r in records]
            chart = line_chart({"training reward (mean per video)": {"reward": [(r["step"], r["reward"])
                                                                                for r in records]}},
                               folder / PROGRESS_PLOT)
            status = (f"**Step {records[-1]['step']}/{cfg.steps}** · reward {rewards[-1]:.3f} (mean of the last 5: "
                      f"{_mean(rewards[-5:]):.3f}) · {time.monotonic() - started:.0f} s{_validation(records)}")
            yield status, str(chart), gr.skip(), gr.skip(), gr.skip()
        if "error" in outcome:
            raise outcome["error"]
        lora, records = Path(outcome["lora"]), read_log(folder)
        rewards = [r["reward"] for r in records]
        span = max(1, min(5, len(rewards) // 2))  # a short run's first and last steps do not overlap
        status = (f"**Done: {cfg.steps} steps in {time.monotonic() - started:.0f} s.** Training reward "
                  f"{_mean(rewards[:span]):.3f} → {_mean(rewards[-span:]):.3f} (mean of the first and last "
                  f"{span} step{'s' if span > 1 else ''}){_validation(records)}. Try it below.")
        files = [str(lora / LORA_WEIGHTS), str(folder / PLOT_FILE), str(folder / LOG_FILE)]
        yield (status, str(folder / PLOT_FILE), str(lora), files,
               {"model": model_name, "reward": reward, "lora": str(lora)})

    # -- trying the LoRA --------------------------------------------------------------------------------------

    def tuned_pipeline(self, model_name: str, lora: str) -> Any:
        """The model with the LoRA loaded (``load_pipeline(model, lora=...)``); the last one is kept."""
        from t2v.models import load_pipeline

        with self._tuned_lock:
            key = (model_name, lora)
            if self._tuned is None or self._tuned[0] != key:
                self._tuned = None  # let the previous one go before the next loads
                self._tuned = (key, load_pipeline(model_name, lora=lora, device=self.ctx.models.device))
            return self._tuned[1]

    def reward_of(self, name: str, frames: np.ndarray, prompt: str) -> float | None:
        """The clip's reward (mean over frames), or None when the reward cannot read the prompt."""
        import torch

        from t2v.rewards import frames_from_uint8, load_reward

        if name not in self._reward_models:
            self._reward_models[name] = load_reward(name)
        try:
            with torch.no_grad():
                return float(self._reward_models[name](frames_from_uint8(frames), [prompt]).mean())
        except ValueError:  # e.g. a prompt outside the shapes world, for shapes-alignment
            return None

    @page_errors
    def compare_samples(self, state: dict | None, prompt_text: str, seed_value: float, steps_value: float,
                        guidance_value: float, request: gr.Request = None,
                        progress: gr.Progress = TRACK_TQDM) -> tuple:
        """The base model and the fine-tuned one on one prompt and seed: (base clip, tuned clip, summary, files)."""
        from t2v.generation import generate

        seed_, steps_, guidance_ = sampling(seed_value, steps_value, guidance_value)
        prompt_ = text(prompt_text, "Sample prompt")
        state = state or {}
        if not state.get("lora"):
            raise ValueError("Fine-tune first: the sample uses the LoRA of this page's last fine-tune")
        model_name, lora = state["model"], state["lora"]
        if not self.ctx.workspace.holds(lora) or not Path(lora, LORA_WEIGHTS).is_file():
            raise ValueError("The LoRA of the last fine-tune is gone (old runs are cleaned up): fine-tune again")
        with self.ctx.runs.run(session(request)) as stop_if_cancelled:
            clips = []
            for pipe in (self.ctx.models.get(model_name), self.tuned_pipeline(model_name, lora)):
                clips.append(generate(pipe, prompt_, seed=seed_, num_inference_steps=steps_,
                                      guidance_scale=guidance_, callback_on_step_end=stop_if_cancelled))
            scores = [self.reward_of(state["reward"], frames, prompt_) for frames, _ in clips]
        folder, fps = self.ctx.workspace.new_run("finetune-sample"), clips[0][1]
        base_view, base_native = save_clip(clips[0][0], folder, "base", fps)
        tuned_view, tuned_native = save_clip(clips[1][0], folder, "lora", fps)
        summary = f"**Seed {seed_}** · {len(clips[0][0])} frames at {fps} fps · {model_name}"
        if None not in scores:
            summary += f" · {state['reward']} reward: base {scores[0]:.3f}, with the LoRA {scores[1]:.3f}"
        return str(base_view), str(tuned_view), summary, [str(base_native), str(tuned_native)]


def build(ctx: DemoContext, guidance: float) -> FinetuneTab | None:
    """The tab, or nothing (logged) when no reward can be trained without weights of the user's own."""
    tab = FinetuneTab(ctx)
    if not tab.rewards:
        logger.warning("no trainable reward loads without weights: no Fine-tune tab")
        return None
    rate, rate_help = config_field("learning_rate")
    rank, _ = config_field("lora_rank")
    noise, noise_help = config_field("noise_fraction")
    schedule, schedule_help = config_field("num_inference_steps")
    with gr.Tab("Fine-tune", id="finetune", elem_id="tab-finetune"):
        gr.Markdown(f"Reward fine-tuning as a LoRA (InstructVideo's editing objective): each step samples a "
                    f"video from the model, noises it part-way, denoises it and follows the reward's gradient. "
                    f"The served model is not changed. One fine-tune runs at a time, at most {MAX_TRAIN_STEPS} "
                    f"steps; for longer runs use `t2v finetune`.")
        state = gr.State({})  # server side: the last fine-tune's model, reward and LoRA folder
        with gr.Row():
            with gr.Column():
                model = gr.Dropdown(list(ctx.models.names), value=ctx.models.default, label="Model")
                reward = gr.Dropdown(tab.rewards, value=tab.rewards[0], label="Reward",
                                     info="Differentiable rewards that need no weights of your own (the CLIP "
                                          "family takes yours: `t2v finetune --reward-path`).")
                steps = gr.Slider(1, MAX_TRAIN_STEPS, 20, step=1, label="Training steps")
                with gr.Row():
                    rate_box = gr.Number(rate, label="Learning rate", info=rate_help, minimum=LEARNING_RATES[0],
                                         maximum=LEARNING_RATES[1], step=1e-5)
                    rank_box = gr.Slider(1, MAX_RANK, rank, step=1, label="LoRA rank",
                                         info="alpha = rank: the update keeps one scale")
                with gr.Row():
                    noise_box = gr.Slider(0.05, 1.0, noise, step=0.05, label="Noise fraction", info=noise_help)
                    schedule_box = gr.Slider(2, MAX_SCHEDULE_STEPS, schedule, step=1, label="Schedule steps",
                                             info=schedule_help)
                start = gr.Button("Start fine-tune", variant="primary")
            with gr.Column():
                status = gr.Markdown(elem_id="finetune-status")
                curves = gr.Image(label="Reward per step", type="filepath", interactive=False,
                                  elem_id="finetune-curves")
                lora = gr.Textbox(label="LoRA folder (on the server)", interactive=False)
                files = gr.File(label="Downloads (LoRA weights, curves, log)", file_count="multiple",
                                interactive=False)
        gr.Markdown("**Try the LoRA**: the same prompt and seed through the base model and the fine-tuned one.")
        with gr.Row():
            with gr.Column():
                prompt = gr.Textbox(SAMPLE_PROMPT, label="Sample prompt", lines=2)
                seed, sample_steps, guidance_box = sampling_controls(guidance)
                go, cancel = run_buttons("Generate with and without the LoRA")
            with gr.Column():
                with gr.Row():
                    base_video = video_output("Base model")
                    tuned_video = video_output("With the LoRA")
                info = gr.Markdown()
                sample_files = gr.File(label="Downloads", file_count="multiple", interactive=False)

    start.click(tab.finetune, [model, reward, steps, rate_box, rank_box, noise_box, schedule_box],
                [status, curves, lora, files, state], concurrency_limit=1, concurrency_id=FINETUNE_GROUP,
                api_name="finetune")
    wire(ctx, go, cancel, tab.compare_samples, [state, prompt, seed, sample_steps, guidance_box],
         [base_video, tuned_video, info, sample_files])
    return tab
