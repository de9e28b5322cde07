"""Attention-controlled editing (EditAnimateDiffPipeline) against diffusers' AnimateDiffVideoToVideoPipeline.

Sources are rendered shapes-world clips (one object, static camera) of a split of :mod:`t2v.world.splits`:
``test`` for reporting, ``dev`` / ``dev-b`` for choosing defaults (never the other way round). Each clip gets
one edit, cycling colour, shape, size and background; then reference-image edits: the object is replaced by
"<ref>", learned from a rendered picture of an object of another colour and shape (textual inversion;
tiny-shapes has no image encoder). The oracle judges everything:

* ``edit_success[type]``: every fact of the target scene holds (the edited fact and every untouched one);
  ``vae_ceiling[type]``: the same for the VAE reconstruction of the rendered target.
* ``background_psnr``: PSNR against the source outside the source's and target's object pixels, object edits.
* ``trajectory_error_px``: mean per-frame distance between the source's and the edit's object centroids.
* ``reference_success``: the new object's colour and shape are the reference's.
* ``baseline``: the same for AnimateDiffVideoToVideoPipeline (``from_pipe``) at strengths 0.3/0.5/0.7/0.9,
  and ``baseline_matched``: the strength whose mean edit success is closest to ours.
* ``time_ratio``: one edit (inversion included) ÷ one plain generation, same steps.
* ``memory_ratio``: peak memory of the same pair on a larger random model (64×64, 16 frames): the resident
  high-water mark of the call alone (reset before it), median of 5 fresh processes each, one malloc arena.
* ``bert_context``: what the bidirectional text encoder does to unchanged tokens when one word is swapped.

    python benchmarks/editing.py [--split test] [--n 40] [--n-reference 30] [--steps 25]

The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import replace

import numpy as np
import torch
from PIL import Image

from t2v.models import load_pipeline
from t2v.pipelines import EditAnimateDiffPipeline
from t2v.training.common import reconstruct
from t2v.world.captions import canonical_caption
from t2v.world.facts import spec_facts
from t2v.world.oracle import ShapesOracle
from t2v.world.render import render
from t2v.world.spec import BACKGROUNDS, COLORS, SHAPES, ShapeObject, WorldSpec
from t2v.world.splits import split_specs

EDIT_TYPES = ("color", "shape", "size", "background")
STRENGTHS = (0.3, 0.5, 0.7, 0.9)
PLAIN_BACKGROUNDS = tuple(b for b in BACKGROUNDS if b != "checkered")


def source_specs(split: str, n: int) -> list[WorldSpec]:
    """``n`` one-object, static-camera scenes of ``split`` on plain backgrounds."""
    found, pool = [], 4 * n
    while len(found) < n:
        found = [s for s in split_specs(split, pool, frames=8, size=32)
                 if len(s.objects) == 1 and s.camera == "static" and s.background in PLAIN_BACKGROUNDS][:n]
        pool *= 2
    return found


def edited(spec: WorldSpec, kind: str, rng: random.Random) -> WorldSpec:
    obj = spec.objects[0]
    if kind == "color":
        return replace(spec, objects=(replace(obj, color=rng.choice([c for c in COLORS if c != obj.color])),))
    if kind == "shape":
        return replace(spec, objects=(replace(obj, shape=rng.choice([s for s in SHAPES if s != obj.shape])),))
    if kind == "size":
        return replace(spec, objects=(replace(obj, size="small" if obj.size == "big" else "big"),))
    return replace(spec, background=rng.choice([b for b in PLAIN_BACKGROUNDS if b != spec.background]))


def object_pixels(clip: np.ndarray) -> np.ndarray:
    """Pixels far from the frame's median colour (the background): ``(F, H, W)`` bool."""
    median = np.median(clip.reshape(clip.shape[0], -1, 3), axis=1)[:, None, None]
    return np.abs(clip.astype(int) - median).sum(-1) > 90


def centroids(clip: np.ndarray) -> list[tuple[float, float] | None]:
    out = []
    for mask in object_pixels(clip):
        ys, xs = np.nonzero(mask)
        out.append((xs.mean(), ys.mean()) if len(xs) else None)
    return out


def trajectory_error(source: np.ndarray, result: np.ndarray) -> float:
    side = source.shape[1]
    errors = [side / 2 if b is None else float(np.hypot(a[0] - b[0], a[1] - b[1]))
              for a, b in zip(centroids(source), centroids(result), strict=True) if a is not None]
    return float(np.mean(errors)) if errors else 0.0


def background_psnr(source: np.ndarray, result: np.ndarray, source_clean: np.ndarray, target_clean: np.ndarray
                    ) -> float:
    outside = ~(object_pixels(source_clean) | object_pixels(target_clean))
    mse = ((source.astype(float) - result.astype(float)) ** 2)[outside].mean()
    return float(10 * np.log10(255.0 ** 2 / max(mse, 1e-10)))


def holds(oracle: ShapesOracle, clip: np.ndarray, facts) -> bool:
    return all(a.yes for a in oracle.answer_many(clip, facts))


def to_uint8(frames) -> np.ndarray:
    return np.rint(np.asarray(frames) * 255).astype(np.uint8)


def reference_case(spec: WorldSpec, rng: random.Random) -> tuple[WorldSpec, np.ndarray, str]:
    """The target scene, a reference picture of its new object (64 px, still, on black), and the prompt."""
    obj = spec.objects[0]
    color = rng.choice([c for c in COLORS if c != obj.color])
    shape = rng.choice([s for s in SHAPES if s != obj.shape])
    target = replace(spec, objects=(replace(obj, color=color, shape=shape),))
    picture = render(WorldSpec(objects=(ShapeObject(shape, color, "big", "still"),), frames=2, size=64))[0]
    prompt = canonical_caption(spec).replace(f"{obj.size} {obj.color} {obj.shape}", "<ref>")
    return target, picture, prompt


def run_edits(pipe, v2v, specs, args, oracle) -> dict:
    rng = random.Random(7)
    ours: dict[str, list] = defaultdict(list)
    base: dict[float, dict[str, list]] = {s: defaultdict(list) for s in STRENGTHS}
    ceiling: dict[str, list[bool]] = defaultdict(list)
    for i, spec in enumerate(specs):
        kind = EDIT_TYPES[i % len(EDIT_TYPES)]
        target = edited(spec, kind, rng)
        clip, target_clip = render(spec), render(target)
        source_prompt, target_prompt = canonical_caption(spec), canonical_caption(target)
        facts = spec_facts(target)
        ceiling[kind].append(holds(oracle, reconstruct(pipe.vae, target_clip), facts))
        with torch.no_grad():
            result = to_uint8(pipe(clip, source_prompt, target_prompt, num_inference_steps=args.steps).frames[0])
        record(ours, kind, oracle, facts, clip, result, target_clip)
        for strength in STRENGTHS:
            out = v2v(video=[Image.fromarray(f) for f in clip], prompt=target_prompt,
                      strength=strength, num_inference_steps=args.steps, guidance_scale=pipe.default_guidance_scale,
                      generator=torch.Generator().manual_seed(i), output_type="np")
            record(base[strength], kind, oracle, facts, clip, to_uint8(out.frames[0]), target_clip)
        print(f"[{i + 1}/{len(specs)}] {kind}: {target_prompt!r} ok={ours['success_' + kind][-1]}", file=sys.stderr)
    return {"ours": ours, "baseline": base, "ceiling": ceiling}


def record(bucket, kind, oracle, facts, clip, result, target_clip) -> None:
    bucket["success_" + kind].append(holds(oracle, result, facts))
    bucket["trajectory"].append(trajectory_error(clip, result))
    if kind != "background":
        bucket["psnr"].append(background_psnr(clip, result, clip, target_clip))


def run_references(pipe, specs, args, oracle) -> dict:
    from t2v.editing.textual_inversion import TextualInversionConfig
    from t2v.world.facts import ObjectRef, Question

    config = TextualInversionConfig(steps=args.ti_steps)
    rng = random.Random(11)
    out: dict[str, list] = defaultdict(list)
    for i, spec in enumerate(specs):
        target, picture, prompt = reference_case(spec, rng)
        clip = render(spec)
        obj = target.objects[0]
        result = to_uint8(pipe(clip, canonical_caption(spec), prompt, reference_image=picture,
                               textual_inversion_config=config, num_inference_steps=args.steps,
                               cache_dir=args.cache_dir).frames[0])
        facts = [Question("color", ObjectRef(shape=obj.shape), obj.color),
                 Question("shape", ObjectRef(color=obj.color), obj.shape)]
        out["success"].append(holds(oracle, result, facts))
        out["trajectory"].append(trajectory_error(clip, result))
        print(f"[ref {i + 1}/{len(specs)}] {prompt!r} <- {obj.color} {obj.shape}: {out['success'][-1]}",
              file=sys.stderr)
    return out


def summary(bucket) -> dict:
    success = {k: round(float(np.mean(bucket["success_" + k])), 4) for k in EDIT_TYPES if bucket["success_" + k]}
    return {"edit_success": success, "mean_success": round(float(np.mean(list(success.values()))), 4),
            "background_psnr": round(float(np.mean(bucket["psnr"])), 2),
            "trajectory_error_px": round(float(np.mean(bucket["trajectory"])), 3)}


def time_ratio(pipe, steps: int, repeats: int = 3) -> float:
    spec = WorldSpec(objects=(ShapeObject("circle", "red", "big", "left", x=0.7),), frames=8, size=32)
    clip, prompt = render(spec), canonical_caption(spec)
    edits, plains = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        pipe(clip, prompt, prompt.replace("red", "blue"), num_inference_steps=steps)
        edits.append(time.perf_counter() - start)
        start = time.perf_counter()
        super(EditAnimateDiffPipeline, pipe).__call__(prompt, num_inference_steps=steps, output_type="np")
        plains.append(time.perf_counter() - start)
    return round(float(np.median(edits) / np.median(plains)), 3)


def memory_child(kind: str, steps: int) -> None:
    """Run one edit or one generation on a larger random model and print the peak memory it added."""
    import tempfile
    from pathlib import Path

    from t2v.models import save_tiny_shapes_format
    from t2v.models.architecture import TinyShapesPreset, build_sample_scheduler, build_unet, build_vae

    preset = TinyShapesPreset(size=64, frames=16)
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as folder:
        path = save_tiny_shapes_format(Path(folder) / "m", unet=build_unet(preset), vae=build_vae(preset),
                                       scheduler=build_sample_scheduler(preset),
                                       card={"size": 64, "frames": 16, "fps": 8})
        pipe = EditAnimateDiffPipeline.from_pipe(load_pipeline(str(path)))
    pipe.set_progress_bar_config(disable=True)
    spec = WorldSpec(objects=(ShapeObject("circle", "red", "big", "left", x=0.7),), frames=16, size=64)
    clip, prompt = render(spec), canonical_caption(spec)
    with open("/proc/self/statm") as f:
        before = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    # The process's peak so far (building and loading the model) can exceed the call's own: reset the
    # high-water mark so that it measures the call alone (Linux: writing 5 to clear_refs).
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    if kind == "edit":
        pipe(clip, prompt, prompt.replace("red", "blue"), num_inference_steps=steps)
    else:
        super(EditAnimateDiffPipeline, pipe).__call__(prompt, num_inference_steps=steps, output_type="np")
    print(json.dumps({"added_bytes": max(0, peak_rss_bytes() - before)}))


def peak_rss_bytes() -> int:
    """The process's resident high-water mark (VmHWM), which clear_refs resets (ru_maxrss does not)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def memory_ratio(steps: int, repeats: int = 5) -> dict:
    """Median over ``repeats`` fresh processes of each, with one malloc arena (``MALLOC_ARENA_MAX=1``): with
    glibc's per-thread arenas one process's peak moved by tens of MB from run to run."""
    env = {**os.environ, "MALLOC_ARENA_MAX": "1"}
    added = {}
    for kind in ("edit", "plain"):
        runs = []
        for _ in range(repeats):
            out = subprocess.run([sys.executable, __file__, "--memory-child", kind, "--steps", str(steps)],
                                 capture_output=True, text=True, check=True, env=env)
            runs.append(json.loads(out.stdout.strip().splitlines()[-1])["added_bytes"])
        added[kind] = float(np.median(runs))
    return {"memory_ratio": round(added["edit"] / max(1, added["plain"]), 3),
            "edit_peak_mb": round(added["edit"] / 2 ** 20, 1), "plain_peak_mb": round(added["plain"] / 2 ** 20, 1)}


@torch.no_grad()
def bert_context(pipe, specs, steps: int) -> dict:
    """One-word swaps: how much a bidirectional encoder moves the unchanged tokens' embeddings and their
    cross-attention maps (same latents, source vs target prompt, no control)."""
    from t2v.editing.attention import StoreControl
    from t2v.editing.tokens import token_map
    from t2v.training.common import encode_clips

    cosines, map_changes = [], []
    rng = random.Random(3)
    for spec in specs:
        target = edited(spec, "color", rng)
        source_prompt, target_prompt = canonical_caption(spec), canonical_caption(target)
        pairs = token_map(pipe.tokenizer, source_prompt, target_prompt).unchanged_tokens()
        s_emb, _ = pipe.encode_prompt(source_prompt, "cpu", 1, False)
        t_emb, _ = pipe.encode_prompt(target_prompt, "cpu", 1, False)
        cosines += [float(torch.cosine_similarity(s_emb[0, s], t_emb[0, t], dim=0)) for s, t in pairs]
        latents = encode_clips(pipe.vae, render(spec)[None])
        noisy = pipe.scheduler.add_noise(latents, torch.randn_like(latents), torch.tensor([500]))
        maps = []
        for emb, idx in ((s_emb, [s for s, _ in pairs]), (t_emb, [t for _, t in pairs])):
            control = StoreControl(1, 8, (8, 8), [[i] for i in idx])
            with control.installed(pipe.unet):
                pipe.unet(noisy, 500, encoder_hidden_states=emb.repeat_interleave(8, dim=0))
            maps.append(control.store.mean())
        change = (maps[1] - maps[0]).abs().flatten(1).sum(1) / maps[0].abs().flatten(1).sum(1)
        map_changes += change.tolist()
    return {"unchanged_token_cosine": round(float(np.mean(cosines)), 4),
            "unchanged_token_cosine_min": round(float(np.min(cosines)), 4),
            "unchanged_map_relative_l1": round(float(np.mean(map_changes)), 4),
            "controlled_map_relative_l1": 0.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="test", choices=("test", "dev", "dev-b"))
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--n-reference", type=int, default=30)
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--cache-dir", default=None)
    parser.add_argument("--ti-steps", type=int, default=300, help="textual inversion steps per reference image")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--memory-child", choices=("edit", "plain"), default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child, args.steps)
        return
    start = time.perf_counter()
    pipe = EditAnimateDiffPipeline.from_pipe(load_pipeline("tiny-shapes"))
    pipe.set_progress_bar_config(disable=True)
    from diffusers import AnimateDiffVideoToVideoPipeline

    v2v = AnimateDiffVideoToVideoPipeline.from_pipe(pipe)
    v2v.set_progress_bar_config(disable=True)
    oracle = ShapesOracle()
    specs = source_specs(args.split, args.n + args.n_reference)
    edits = run_edits(pipe, v2v, specs[:args.n], args, oracle)
    ours = summary(edits["ours"])
    baselines = {str(s): summary(b) for s, b in edits["baseline"].items()}
    matched = min(baselines, key=lambda s: abs(baselines[s]["mean_success"] - ours["mean_success"]))
    ceiling = {k: round(float(np.mean(v)), 4) for k, v in edits["ceiling"].items()}
    refs = run_references(pipe, specs[args.n:args.n + args.n_reference], args, oracle) if args.n_reference else {}
    context = bert_context(pipe, specs[:8], args.steps)
    result = {
        "split": args.split, "videos": args.n, "reference_edits": args.n_reference, "steps": args.steps,
        **ours, "vae_ceiling": ceiling,
        "reference_success": round(float(np.mean(refs["success"])), 4) if refs else None,
        "reference_trajectory_error_px": round(float(np.mean(refs["trajectory"])), 3) if refs else None,
        "baseline": baselines, "baseline_matched": {"strength": float(matched), **baselines[matched]},
        "time_ratio": time_ratio(pipe, args.steps),
        **({} if args.skip_memory else memory_ratio(args.steps)),
        "bert_context": context,
        "seconds": round(time.perf_counter() - start, 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
