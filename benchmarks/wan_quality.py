"""Wan's native ways against t2v's shared way, scored on shapes-world prompts: for users with real Wan weights.

It cannot run without weights (no machine here has them); ``benchmarks/wan_timing.py`` times the same ways on
tiny random models. Give the folders (or cached hub ids) of the models you have; each way runs when its
models are there, native and shared on the same prompts, seeds, steps and guidance:

* ``transition`` (``--t2v`` and ``--flf2v``): a bridge of ``--frames`` frames from scene A's last frame to
  scene B's first. Native: FLF2V (:func:`native_transition`, prompt "A. Then B."). Shared: the T2V model's
  ``TransitionWanPipeline.bridge_frames`` (prompt moving from A's caption to B's), the two given ends put
  back around it. Score: on the generated frames only (the ends left out), the evaluator's DSG of the first
  half against A's caption and of the second half against B's, averaged.
* ``keyframes`` (``--t2v`` and ``--vace``): a rendered scene's first, middle and last frames given. Native:
  VACE (:func:`native_keyframes`). Shared: ``generate_with_given``. Score: DSG against the scene's caption
  (motion questions included: the keyframes pin where the shape is at three times).
* ``scene_continuity`` (``--t2v`` and ``--i2v``): scene 1 (A's caption), then scene 2 (the same shape
  with another motion). Native: T2V for scene 1, then I2V from its last frame (:func:`native_continuation`).
  Shared: ``MultiSceneWanPipeline`` with its default continuity. Score: the mean DSG of the two scenes
  against their captions.

Prompts: ``--prompts`` one-object scenes sampled from the shapes world (fixed seed), captioned canonically,
so the default answerer, the shapes-world oracle, can read them. The evaluator is t2v's
(:class:`t2v.eval.Evaluator`: rule-based questions, oracle answers). Also reported: seconds per call.
Last line: one JSON object (``--out`` also writes it to a file; ``--videos`` writes every video as mp4).

    python benchmarks/wan_quality.py --t2v Wan2.1-T2V-14B-Diffusers --flf2v Wan2.1-FLF2V-14B-720P-diffusers \\
        --i2v Wan2.1-I2V-14B-480P-Diffusers --vace Wan2.1-VACE-14B-diffusers --device cuda --dtype bfloat16
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SEED = 20_250_601
MAX_WORLD_FRAMES = 64  # the shapes world renders at most this many frames
DTYPES = ("float32", "bfloat16", "float16")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    parser.add_argument("--t2v", required=True, help="Wan text-to-video model folder or cached hub id (the shared "
                                                     "way runs on it)")
    parser.add_argument("--flf2v", help="Wan 2.1 FLF2V model (WanImageToVideoPipeline with first-last-frame "
                                        "positions): the native transition")
    parser.add_argument("--i2v", help="Wan image-to-video model (2.1 I2V, 2.2 I2V A14B): native scene continuity")
    parser.add_argument("--vace", help="Wan VACE model (WanVACEPipeline): native keyframes")
    parser.add_argument("--prompts", type=int, default=8, help="shapes-world scenes per way (default 8)")
    parser.add_argument("--frames", type=int, default=33, help="frames per video, 4k+1 up to 61 (default 33)")
    parser.add_argument("--size", type=int, default=480, help="square frame side, a multiple of 16 (default 480)")
    parser.add_argument("--steps", type=int, default=30, help="denoising steps (default 30)")
    parser.add_argument("--guidance-scale", type=float, default=5.0, help="classifier-free guidance (default 5)")
    parser.add_argument("--device", default="cuda", help="torch device (default cuda)")
    parser.add_argument("--dtype", choices=DTYPES, default="bfloat16",
                        help="transformer and text-encoder dtype; the VAE stays float32 (default bfloat16)")
    parser.add_argument("--cpu-offload", action="store_true", help="keep weights on the CPU between model calls")
    parser.add_argument("--out", type=Path, help="also write the JSON report here")
    parser.add_argument("--videos", type=Path, help="write every generated video here as mp4")
    args = parser.parse_args(argv)
    if not (args.flf2v or args.i2v or args.vace):
        parser.error("give at least one native model: --flf2v, --i2v or --vace")
    if args.frames < 9 or (args.frames - 1) % 4 or args.frames > MAX_WORLD_FRAMES:
        parser.error(f"--frames must be 4k+1 in [9, 61] (the shapes world renders at most {MAX_WORLD_FRAMES}), "
                     f"got {args.frames}")
    if args.size < 32 or args.size > 512 or args.size % 16:
        parser.error(f"--size must be a multiple of 16 in [32, 512], got {args.size}")
    if args.prompts < 1 or args.steps < 1:
        parser.error("--prompts and --steps must be at least 1")
    from t2v.models.wan import is_local

    for flag in ("t2v", "flf2v", "i2v", "vace"):
        model = getattr(args, flag)
        if model is None or not is_local(model):
            continue
        folder = Path(model).expanduser()
        if not folder.is_dir():
            parser.error(f"--{flag} {model!r}: no such folder (give a diffusers Wan model folder with "
                         "model_index.json, or a hub id already in the local cache)")
        if not (folder / "model_index.json").is_file():
            parser.error(f"--{flag} {model!r}: no model_index.json there; not a diffusers pipeline folder")
    return args


def load(flag: str, model: str, args: argparse.Namespace):
    """A pipeline, or exit 2 with a message naming the flag."""
    import torch

    from t2v.models import load_pipeline

    dtype = {"default": getattr(torch, args.dtype), "vae": torch.float32}
    try:
        pipe = load_pipeline(model, dtype=dtype, device=None if args.cpu_offload else args.device,
                             cpu_offload=args.cpu_offload)
    except (OSError, ValueError) as err:
        print(f"error: --{flag} {model!r} could not be loaded: {err}", file=sys.stderr)
        sys.exit(2)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def scenes(count: int, frames: int, size: int) -> list:
    """``count`` pairs of distinct one-object, static-camera scenes (A, B) and A with another motion (A2)."""
    from t2v.world.sampling import sample_spec

    rng, out = random.Random(SEED), []
    while len(out) < count:
        a = sample_spec(rng, frames=frames, size=size, two_objects=0.0, camera_pan=0.0)
        b = sample_spec(rng, frames=frames, size=size, two_objects=0.0, camera_pan=0.0)
        (obj_a,), (obj_b,) = a.objects, b.objects
        motions = [m for m in ("left", "right", "up", "down", "still") if m != obj_a.motion]
        a2 = replace(a, objects=(replace(obj_a, motion=rng.choice(motions)),))
        if (obj_a.color, obj_a.shape) != (obj_b.color, obj_b.shape):
            out.append((a, b, a2))
    return out


class Way:
    """Scores and seconds of one way over the prompts."""

    def __init__(self) -> None:
        self.scores: list[float] = []
        self.seconds: list[float] = []

    def summary(self) -> dict:
        valid = [s for s in self.scores if s is not None]
        return {"dsg": round(statistics.mean(valid), 4) if valid else None, "videos": len(self.scores),
                "seconds_per_call": round(statistics.mean(self.seconds), 2) if self.seconds else None}


def dsg(evaluator, frames: np.ndarray, prompt: str) -> float | None:
    return evaluator.evaluate(frames, prompt).scores.dsg


def timed(call, *args, **kwargs):
    """``call(*args, **kwargs)`` and the seconds it took."""
    start = time.perf_counter()
    out = call(*args, **kwargs)
    return out, time.perf_counter() - start


def generator(i: int):
    import torch

    return torch.Generator().manual_seed(SEED + i)


def two_native(t2v, i2v, story, cap_1: str, cap_2: str, i: int, args, settings: dict) -> tuple[np.ndarray, ...]:
    """Scene 1 by text-to-video, scene 2 by image-to-video from scene 1's last frame."""
    from t2v.pipelines.wan_native import native_continuation

    video = t2v(cap_1, height=args.size, width=args.size, num_frames=args.frames, generator=generator(i),
                output_type="np", **settings).frames[0]
    first = np.rint(video * 255).astype(np.uint8)
    return first, native_continuation(i2v, first, cap_2, args.frames, generator=generator(i), **settings)


def two_shared(t2v, i2v, story, cap_1: str, cap_2: str, i: int, args, settings: dict) -> tuple[np.ndarray, ...]:
    """Both scenes by the multi-scene pipeline with its default continuity."""
    from t2v.story import Scene, Script

    script = Script(seed=SEED + i, scenes=[Scene(prompt=cap_1, frames=args.frames),
                                           Scene(prompt=cap_2, frames=args.frames)])
    out = story(script, height=args.size, width=args.size, **settings)
    return tuple(np.rint(c * 255).astype(np.uint8) for c in out.clips)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from t2v.eval.evaluator import Evaluator
    from t2v.pipelines import MultiSceneWanPipeline, T2VWanPipeline, TransitionWanPipeline
    from t2v.pipelines.wan_native import (
        check_continuation_model,
        check_first_last_model,
        check_vace_model,
        native_keyframes,
        native_transition,
    )
    from t2v.video import write_video
    from t2v.world.captions import canonical_caption
    from t2v.world.render import render

    t2v = load("t2v", args.t2v, args)
    if not isinstance(t2v, T2VWanPipeline):
        print(f"error: --t2v {args.t2v!r} is a {type(t2v).__name__}, not a Wan text-to-video model", file=sys.stderr)
        return 2
    shared = TransitionWanPipeline.from_pipe(t2v)
    shared.set_progress_bar_config(disable=True)
    evaluator = Evaluator()
    frames, size, steps = args.frames, args.size, args.steps
    settings = {"num_inference_steps": steps, "guidance_scale": args.guidance_scale}
    data = scenes(args.prompts, frames, size)
    report: dict = {"prompts": len(data), "frames": frames, "size": size, "steps": steps,
                    "guidance_scale": args.guidance_scale, "models": {"t2v": args.t2v}}

    def keep(name: str, i: int, video: np.ndarray) -> None:
        if args.videos is not None:
            write_video(video, args.videos / f"{name}_{i:02d}.mp4", fps=16)

    if args.flf2v:
        flf2v = load("flf2v", args.flf2v, args)
        try:
            check_first_last_model(flf2v)
        except ValueError as err:
            print(f"error: --flf2v {args.flf2v!r}: {err}", file=sys.stderr)
            return 2
        native, pinned = Way(), Way()
        for i, (a, b, _) in enumerate(data):
            cap_a, cap_b = canonical_caption(a), canonical_caption(b)
            first, last = render(a)[-1], render(b)[0]
            video, seconds = timed(native_transition, flf2v, first, last, f"{cap_a}. Then {cap_b}.", frames,
                                   generator=generator(i), **settings)
            native.seconds.append(seconds)
            bridge, seconds = timed(shared.bridge_frames, first[None], last[None], cap_a, cap_b, frames - 2,
                                    generator=generator(i), **settings)
            pinned.seconds.append(seconds)
            ours = np.concatenate([first[None], bridge, last[None]])
            half = (frames - 2) // 2
            for way, clip, name in ((native, video, "transition_native"), (pinned, ours, "transition_shared")):
                made = clip[1:-1]  # generated frames only: the shared way's ends are the given frames themselves
                halves = [dsg(evaluator, made[:half], cap_a), dsg(evaluator, made[-half:], cap_b)]
                way.scores.append(None if None in halves else statistics.mean(halves))
                keep(name, i, clip)
        report["models"]["flf2v"] = args.flf2v
        report["transition"] = {"native": native.summary(), "shared": pinned.summary()}
        print(f"transition: {report['transition']}", file=sys.stderr)
        del flf2v

    if args.vace:
        vace = load("vace", args.vace, args)
        try:
            check_vace_model(vace)
        except ValueError as err:
            print(f"error: --vace {args.vace!r}: {err}", file=sys.stderr)
            return 2
        native, pinned = Way(), Way()
        indices = [0, frames // 2, frames - 1]
        for i, (a, _, _) in enumerate(data):
            caption, clip = canonical_caption(a), render(a)
            keys = {k: clip[k] for k in indices}
            video, seconds = timed(native_keyframes, vace, keys, caption, frames, generator=generator(i), **settings)
            native.seconds.append(seconds)
            ours, seconds = timed(shared.generate_with_given, caption, frames, clip[indices], indices,
                                  generator=generator(i), **settings)
            pinned.seconds.append(seconds)
            for way, out, name in ((native, video, "keyframes_native"), (pinned, ours, "keyframes_shared")):
                way.scores.append(dsg(evaluator, out, caption))
                keep(name, i, out)
        report["models"]["vace"] = args.vace
        report["keyframes"] = {"indices": indices, "native": native.summary(), "shared": pinned.summary()}
        print(f"keyframes: {report['keyframes']}", file=sys.stderr)
        del vace

    if args.i2v:
        i2v = load("i2v", args.i2v, args)
        try:
            check_continuation_model(i2v)
        except ValueError as err:
            print(f"error: --i2v {args.i2v!r}: {err}", file=sys.stderr)
            return 2
        story = MultiSceneWanPipeline.from_pipe(t2v)
        story.set_progress_bar_config(disable=True)
        native, pinned = Way(), Way()
        for i, (a, _, a2) in enumerate(data):
            cap_1, cap_2 = canonical_caption(a), canonical_caption(a2)
            for way, call, name in ((native, two_native, "continuity_native"), (pinned, two_shared,
                                                                                 "continuity_shared")):
                (one, two), seconds = timed(call, t2v, i2v, story, cap_1, cap_2, i, args, settings)
                way.seconds.append(seconds)
                parts = [dsg(evaluator, one, cap_1), dsg(evaluator, two, cap_2)]
                way.scores.append(None if None in parts else statistics.mean(parts))
                keep(name, i, np.concatenate([one, two]))
        report["models"]["i2v"] = args.i2v
        report["scene_continuity"] = {"native": native.summary(), "shared": pinned.summary()}
        print(f"scene continuity: {report['scene_continuity']}", file=sys.stderr)

    line = json.dumps(report)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        partial = args.out.with_name(args.out.name + ".tmp")
        partial.write_text(line + "\n")
        partial.replace(args.out)
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
