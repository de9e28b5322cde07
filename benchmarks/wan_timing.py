"""Wan's native ways against t2v's shared way, timed in the same run on tiny random Wan models.

On random weights only time and memory mean anything: the videos are noise either way (quality needs real
weights: ``benchmarks/wan_quality.py``). Models are built as in the tests (``tests/tiny_wan.py``); each shared
model is a text-to-video transformer of the same width and depth as the native model's base, so the ratio
shows what the native conditioning costs against pinning given frames in a T2V model:

* ``transition``: FLF2V (``WanImageToVideoPipeline(image=, last_image=)``, :func:`native_transition`) against
  masked temporal inpainting with the first and last frame given (``TransitionWanPipeline.generate_with_given``).
* ``keyframes``: VACE with keyframes at the first, middle and last index (:func:`native_keyframes`) against
  ``generate_with_given`` with the same three frames.
* ``scene_continuity``: a two-scene story: scene 1 by text-to-video, scene 2 by 2.1 I2V from scene 1's last frame
  (:func:`native_continuation`), against ``MultiSceneWanPipeline`` with its default continuity.

Per way: seconds per call (median of ``--repeats``, native and shared calls alternating, after one untimed
warm-up each) and peak memory added during a call (resident memory on CPU, with freed heap handed back to the
OS before each call, which at these sizes still moves by several MB from run to run; ``max_memory_allocated``
on CUDA); ``time_ratio`` and ``memory_ratio`` are native ÷ shared. At these sizes the tiny VAE, not the
transformer, takes most of the time. All ways use the same steps, guidance 5 (two passes a step) and 512 text
tokens (diffusers' Wan 2.1 I2V attention needs that length). Last line: one JSON object.

    python benchmarks/wan_timing.py [--size 64] [--frames 17] [--steps 4] [--repeats 5] [--device cpu]
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))

from measure import PeakMemory  # noqa: E402

from t2v.pipelines import MultiSceneWanPipeline, T2VWanPipeline, TransitionWanPipeline  # noqa: E402
from t2v.pipelines.wan_native import native_continuation, native_keyframes, native_transition  # noqa: E402
from t2v.story import Scene, Script  # noqa: E402
from tests.tiny_wan import (  # noqa: E402
    tiny_i2v_components,
    tiny_transformer,
    tiny_vace_components,
    tiny_wan_components,
)

TEXT_TOKENS = 512
GUIDANCE = 5.0
PROMPT, NEXT_PROMPT = "a big red ball moving right", "a big red ball bouncing"
VACE_BASE_LAYERS = 3  # tests/tiny_wan.py's VACE transformer: 3 blocks (VACE hints after blocks 0 and 2)


def prepared(pipe, device: str):
    pipe.set_progress_bar_config(disable=True)  # t2v's Wan pipelines encode 512 text tokens by default
    return pipe.to(device)


def t2v_pipe(pipeline_class, frames: int, size: int, num_layers: int, device: str):
    """A tiny T2V Wan pipeline whose native length and size are the benchmark's, ``num_layers`` blocks."""
    components = tiny_wan_components()
    components["transformer"] = tiny_transformer(num_layers=num_layers)
    return prepared(pipeline_class(**components, native_num_frames=frames, native_height=size, native_width=size),
                    device)


def params(pipe) -> int:
    return sum(p.numel() for name in ("transformer", "transformer_2") if getattr(pipe, name, None) is not None
               for p in getattr(pipe, name).parameters())


def release_freed_memory() -> None:
    """Hand freed heap back to the OS (glibc ``malloc_trim``), so resident memory added during the next call
    counts what that call holds, not what earlier calls left cached."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def measure_once(call: Callable[[], object], device: str) -> tuple[float, float]:
    """Seconds of one call and the memory it added at its peak (MB)."""
    release_freed_memory()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        call()
        torch.cuda.synchronize()
        return time.perf_counter() - start, (torch.cuda.max_memory_allocated() - base) / 2**20
    with PeakMemory() as memory:
        start = time.perf_counter()
        call()
        seconds = time.perf_counter() - start
    return seconds, memory.added_mb


def measure(native: Callable[[], object], shared: Callable[[], object], repeats: int, device: str,
            **extra) -> dict:
    """Both ways after one warm-up each, timed round-robin (so a change in the machine's load falls on both
    alike): median seconds per call, and the largest peak memory added over the calls."""
    native()
    shared()
    runs: dict[str, list[tuple[float, float]]] = {"native": [], "shared": []}
    for _ in range(repeats):
        for name, call in (("native", native), ("shared", shared)):
            runs[name].append(measure_once(call, device))
    summary = {name: {"seconds": round(statistics.median(s for s, _ in got), 4),
                      "peak_mb": round(max(m for _, m in got), 2)} for name, got in runs.items()}
    return compare(summary["native"], summary["shared"], **extra)


def compare(native: dict, shared: dict, **extra) -> dict:
    def ratio(a: float, b: float) -> float | None:
        return round(a / b, 3) if b > 0 else None

    return {"native": native, "shared": shared, "time_ratio": ratio(native["seconds"], shared["seconds"]),
            "memory_ratio": ratio(native["peak_mb"], shared["peak_mb"]), **extra}


def seeded() -> torch.Generator:
    return torch.Generator().manual_seed(0)


def time_transition(keys: np.ndarray, args: argparse.Namespace, settings: dict) -> dict:
    """FLF2V against masked inpainting with the first and last frame given."""
    from diffusers import WanImageToVideoPipeline

    count, device = args.frames, args.device
    flf2v = prepared(WanImageToVideoPipeline(**tiny_i2v_components(first_last=True)), device)
    shared = t2v_pipe(TransitionWanPipeline, count, args.size, 2, device)
    return measure(lambda: native_transition(flf2v, keys[0], keys[2], PROMPT, count, generator=seeded(), **settings),
                   lambda: shared.generate_with_given(PROMPT, count, keys[[0, 2]], [0, count - 1], generator=seeded(),
                                                      **settings),
                   args.repeats, device, native_params=params(flf2v), shared_params=params(shared))


def time_keyframes(keys: np.ndarray, args: argparse.Namespace, settings: dict) -> dict:
    """VACE against masked inpainting with the same first, middle and last frame."""
    from diffusers import WanVACEPipeline

    count, device = args.frames, args.device
    vace = prepared(WanVACEPipeline(**tiny_vace_components()), device)
    shared = t2v_pipe(TransitionWanPipeline, count, args.size, VACE_BASE_LAYERS, device)
    indices = [0, count // 2, count - 1]
    return measure(lambda: native_keyframes(vace, dict(zip(indices, keys, strict=True)), PROMPT, count,
                                            generator=seeded(), max_sequence_length=TEXT_TOKENS, **settings),
                   lambda: shared.generate_with_given(PROMPT, count, keys, indices, generator=seeded(), **settings),
                   args.repeats, device, indices=indices, native_params=params(vace), shared_params=params(shared))


def time_continuity(args: argparse.Namespace, settings: dict) -> dict:
    """Two scenes: T2V then I2V from the last frame, against the multi-scene pipeline's continuity."""
    from diffusers import WanImageToVideoPipeline

    size, count, device = args.size, args.frames, args.device
    i2v = prepared(WanImageToVideoPipeline(**tiny_i2v_components(first_last=False)), device)
    plain = t2v_pipe(T2VWanPipeline, count, size, 2, device)
    story = t2v_pipe(MultiSceneWanPipeline, count, size, 2, device)

    def two_scenes_native() -> None:
        first = plain(PROMPT, height=size, width=size, num_frames=count, generator=seeded(),
                      max_sequence_length=TEXT_TOKENS, output_type="np", **settings).frames[0]
        native_continuation(i2v, np.rint(first * 255).astype(np.uint8), NEXT_PROMPT, count, generator=seeded(),
                            **settings)

    def two_scenes_shared() -> None:
        script = Script(seed=7, scenes=[Scene(prompt=PROMPT, frames=count), Scene(prompt=NEXT_PROMPT, frames=count)])
        story(script, height=size, width=size, **settings)

    return measure(two_scenes_native, two_scenes_shared, args.repeats, device, scenes=2, native_params=params(i2v),
                   shared_params=params(story))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=64, help="frame height and width (a multiple of 16)")
    parser.add_argument("--frames", type=int, default=17, help="frames per video (4k+1, at least 9)")
    parser.add_argument("--steps", type=int, default=4, help="denoising steps per call")
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per way (median reported)")
    parser.add_argument("--device", default="cpu", help="torch device (cpu, cuda)")
    args = parser.parse_args(argv)
    if args.size < 16 or args.size % 16:
        parser.error(f"--size must be a positive multiple of 16, got {args.size}")
    if args.frames < 9 or (args.frames - 1) % 4:
        parser.error(f"--frames must be 4k+1 and at least 9, got {args.frames}")
    if args.steps < 1 or args.repeats < 1:
        parser.error("--steps and --repeats must be at least 1")
    torch.manual_seed(0)
    settings = dict(num_inference_steps=args.steps, guidance_scale=GUIDANCE)
    keys = np.random.default_rng(0).integers(0, 256, (3, args.size, args.size, 3), dtype=np.uint8)
    report: dict = {"note": "tiny random Wan weights: only time and memory mean anything, not the videos",
                    "device": args.device, "size": args.size, "frames": args.frames, "steps": args.steps,
                    "repeats": args.repeats, "guidance_scale": GUIDANCE, "text_tokens": TEXT_TOKENS}

    report["transition"] = time_transition(keys, args, settings)
    print(f"transition: {report['transition']}", file=sys.stderr)
    report["keyframes"] = time_keyframes(keys, args, settings)
    print(f"keyframes: {report['keyframes']}", file=sys.stderr)
    report["scene_continuity"] = time_continuity(args, settings)
    print(f"scene continuity: {report['scene_continuity']}", file=sys.stderr)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
