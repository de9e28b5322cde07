"""Caching on Wan (``--cache``): drift from the uncached video and speed-up, on a tiny random Wan model.

The model is tests/tiny_wan.py's text-to-video pipeline with a deeper, wider transformer (``--layers`` blocks of
``--heads`` × 32 channels) on 64×64×17 frames, so the transformer takes most of a call (the share is printed
as ``transformer_share``) and skipping its blocks shows as wall time. For each cache setting (the defaults of
:mod:`t2v.models.caching`, and one other per kind) at ``--steps`` steps with guidance 5 (two passes a step):

* ``max_abs_diff`` / ``mean_abs_diff``: frames (floats in [0, 1]) against the uncached run of the same seed;
* ``speedup``: uncached ÷ cached seconds per call (median of ``--repeats`` calls, settings alternating, after one
  untimed warm-up each);
* ``full_passes``: the share of transformer passes that ran the last block (1.0: nothing skipped).

MagCache is calibrated first (``calibrate_mag_ratios`` at the same step count, one run). On random weights the
drift says how far a cache moves the sampler, not how the video looks: quality needs real weights. Last line:
one JSON object.

    python benchmarks/wan_cache.py [--steps 20] [--layers 16] [--heads 4] [--repeats 3] [--device cpu]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from t2v.models.caching import DEFAULTS, calibrate_mag_ratios, disable_caching, enable_caching  # noqa: E402
from t2v.pipelines import T2VWanPipeline  # noqa: E402
from tests.tiny_wan import MAX_SEQUENCE_LENGTH, tiny_transformer, tiny_wan_components  # noqa: E402

SIZE, FRAMES, GUIDANCE = 64, 17, 5.0
PROMPT = "a big red ball moving right"
SETTINGS: list[tuple[str, str, dict]] = [
    ("first-block", "default", {}),
    ("first-block", "threshold-0.1", {"threshold": 0.1}),
    ("mag", "default", {}),
    ("mag", "magcache-wan", {"threshold": 0.12, "max_skip_steps": 2}),  # MagCache's own Wan 2.1 setting
    ("taylorseer", "default", {}),
    ("taylorseer", "interval-6", {"cache_interval": 6, "disable_cache_before_step": 2}),
]


def build(layers: int, heads: int, device: str) -> T2VWanPipeline:
    components = tiny_wan_components()
    components["transformer"] = tiny_transformer(0, num_layers=layers, num_attention_heads=heads,
                                                 attention_head_dim=32, ffn_dim=4 * heads * 32)
    pipe = T2VWanPipeline(**components, native_num_frames=FRAMES, native_height=SIZE, native_width=SIZE,
                          native_max_sequence_length=MAX_SEQUENCE_LENGTH).to(device)
    pipe.set_progress_bar_config(disable=True)
    return pipe


class PassCounter:
    """Counts transformer passes, and those that ran the last block (its feed-forward runs only then)."""

    def __init__(self, model: torch.nn.Module) -> None:
        self.passes = self.full = 0
        self.handles = [model.register_forward_hook(self._pass), model.blocks[-1].ffn.register_forward_hook(
            self._full)]

    def _pass(self, *_) -> None:
        self.passes += 1

    def _full(self, *_) -> None:
        self.full += 1

    def close(self) -> None:
        for handle in self.handles:
            handle.remove()


def call(pipe: T2VWanPipeline, steps: int, seed: int, output_type: str = "np"):
    return pipe(PROMPT, num_inference_steps=steps, guidance_scale=GUIDANCE, output_type=output_type,
                generator=torch.Generator().manual_seed(seed)).frames[0]


def timed(pipe: T2VWanPipeline, steps: int, device: str) -> float:
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    call(pipe, steps, 0)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter() - start


def transformer_share(pipe: T2VWanPipeline, steps: int, device: str) -> float:
    """The share of an uncached call spent in the transformer."""
    spent = [0.0]
    began = [0.0]

    def before(*_):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        began[0] = time.perf_counter()

    def after(*_):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        spent[0] += time.perf_counter() - began[0]

    handles = [pipe.transformer.register_forward_pre_hook(before), pipe.transformer.register_forward_hook(after)]
    try:
        total = timed(pipe, steps, device)
    finally:
        for handle in handles:
            handle.remove()
    return spent[0] / total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--layers", type=int, default=16)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.manual_seed(0)
    pipe = build(args.layers, args.heads, args.device)
    with torch.no_grad():
        uncached = call(pipe, args.steps, 0)
        share = transformer_share(pipe, args.steps, args.device)
        start = time.perf_counter()
        ratios = calibrate_mag_ratios(pipe, PROMPT, num_inference_steps=args.steps, guidance_scale=GUIDANCE)
        calibration_s = time.perf_counter() - start

        results: dict[str, dict] = {}
        for kind, name, options in SETTINGS:
            enable_caching(pipe, kind, options=options, mag_ratios=ratios if kind == "mag" else None)
            counter = PassCounter(pipe.transformer)
            try:
                cached = call(pipe, args.steps, 0)
            finally:
                counter.close()
            diff = np.abs(cached - uncached)
            results[f"{kind}/{name}"] = {"settings": {**DEFAULTS[kind], **options},
                                         "max_abs_diff": round(float(diff.max()), 4),
                                         "mean_abs_diff": round(float(diff.mean()), 5),
                                         "full_passes": round(counter.full / counter.passes, 3)}
            disable_caching(pipe)

        times: dict[str, list[float]] = {"uncached": [], **{key: [] for key in results}}
        for _ in range(args.repeats + 1):  # the first round is the untimed warm-up
            for key in times:
                if key != "uncached":
                    kind = key.split("/")[0]
                    options = dict(next(o for k, n, o in SETTINGS if f"{k}/{n}" == key))
                    enable_caching(pipe, kind, options=options, mag_ratios=ratios if kind == "mag" else None)
                times[key].append(timed(pipe, args.steps, args.device))
                disable_caching(pipe)
    seconds = {key: statistics.median(values[1:]) for key, values in times.items()}
    for key, result in results.items():
        result["seconds"] = round(seconds[key], 3)
        result["speedup"] = round(seconds["uncached"] / seconds[key], 2)
        print(f"{key:24s} speed-up {result['speedup']:5.2f}x  full passes {result['full_passes']:.2f}  "
              f"drift max {result['max_abs_diff']:.4f} mean {result['mean_abs_diff']:.5f}")
    summary = {"benchmark": "wan_cache", "device": args.device, "steps": args.steps, "guidance": GUIDANCE,
               "frames": FRAMES, "size": SIZE, "layers": args.layers, "width": args.heads * 32,
               "torch_threads": torch.get_num_threads(), "repeats": args.repeats,
               "uncached_seconds": round(seconds["uncached"], 3), "transformer_share": round(share, 3),
               "mag_calibration_seconds": round(calibration_s, 2), "results": results}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
