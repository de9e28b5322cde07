"""``t2v world``: render shapes-world scenes from captions or spec files, and print captions of random scenes."""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from t2v.world.spec import MAX_FPS, MAX_FRAMES, MAX_SIZE, MIN_FPS, MIN_FRAMES, MIN_SIZE, WorldSpec

from ._common import check_output_path, describe_clip, write_output

DEFAULT_FRAMES, DEFAULT_SIZE, DEFAULT_FPS = 16, 64, 8


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "world",
        help="the shapes world: render scenes, print captions",
        description="The procedural shapes world that the embedded tiny-shapes model is trained on.",
    )
    world = parser.add_subparsers(dest="world_command", metavar="SUBCOMMAND")
    world.required = True

    render = world.add_parser(
        "render",
        help="render a caption (or a spec file) to an .mp4 or .gif",
        description="Parse a caption such as 'a big red ball bouncing on a gray background', render the "
                    "scene and write it. The file type follows the extension of --output.",
    )
    render.add_argument("caption", nargs="?", help="scene description in the world's vocabulary")
    render.add_argument("-o", "--output", help="video file to write (.mp4 or .gif)")
    render.add_argument("--spec-json", metavar="PATH", help="read the scene from a spec JSON file instead of a caption")
    render.add_argument("--frames", type=int, default=None,
                        help=f"frames in the clip, {MIN_FRAMES}-{MAX_FRAMES} (default {DEFAULT_FRAMES}, "
                             "or the spec file's)")
    render.add_argument("--size", type=int, default=None,
                        help=f"frame side in pixels, a multiple of 8 in [{MIN_SIZE}, {MAX_SIZE}] "
                             f"(default {DEFAULT_SIZE}, or the spec file's)")
    render.add_argument("--fps", type=int, default=None,
                        help=f"frames per second, {MIN_FPS}-{MAX_FPS} (default {DEFAULT_FPS}, or the spec file's)")
    render.add_argument("--print-spec", action="store_true", help="print the scene's spec as JSON")
    render.set_defaults(func=run_render)

    caption = world.add_parser(
        "caption",
        help="print captions of a random scene",
        description="Sample a random scene and print its canonical caption and paraphrases, one per line.",
    )
    caption.add_argument("--seed", type=int, default=0, help="random seed of the scene and the wording")
    caption.add_argument("--n", type=int, default=8, help="number of paraphrases, 1-1000 (default 8)")
    caption.add_argument("--vocabulary", choices=("train", "heldout"), default="train",
                         help="train words only, or paraphrases that each use a held-out synonym")
    caption.add_argument("--print-spec", action="store_true", help="print the scene's spec as JSON first")
    caption.set_defaults(func=run_caption)


def _check_format(frames: int | None, size: int | None, fps: int | None) -> None:
    """Range checks that name the command-line flag (the spec's own checks name the field)."""
    if frames is not None and not MIN_FRAMES <= frames <= MAX_FRAMES:
        raise ValueError(f"--frames must be in [{MIN_FRAMES}, {MAX_FRAMES}], got {frames}")
    if size is not None and (not MIN_SIZE <= size <= MAX_SIZE or size % 8):
        raise ValueError(f"--size must be a multiple of 8 in [{MIN_SIZE}, {MAX_SIZE}], got {size}")
    if fps is not None and not MIN_FPS <= fps <= MAX_FPS:
        raise ValueError(f"--fps must be in [{MIN_FPS}, {MAX_FPS}], got {fps}")


def _load_spec(args: argparse.Namespace) -> WorldSpec:
    if args.spec_json is not None:
        if args.caption is not None:
            raise ValueError("give a caption or --spec-json, not both")
        path = Path(args.spec_json)
        if not path.is_file():
            raise ValueError(f"--spec-json file {str(path)!r} does not exist")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise ValueError(f"--spec-json file {str(path)!r} is not valid JSON: {err}") from err
        return WorldSpec.from_dict(data).with_format(frames=args.frames, size=args.size, fps=args.fps)
    if args.caption is None:
        raise ValueError("give a caption, e.g. 'a big red ball bouncing on a gray background', or --spec-json")
    from t2v.world.parser import parse_caption

    return parse_caption(
        args.caption,
        frames=DEFAULT_FRAMES if args.frames is None else args.frames,
        size=DEFAULT_SIZE if args.size is None else args.size,
        fps=DEFAULT_FPS if args.fps is None else args.fps,
    )


def run_render(args: argparse.Namespace) -> int:
    from t2v.world.render import render

    if args.output is None and not args.print_spec:
        raise ValueError("give -o/--output FILE.mp4 (or .gif), or --print-spec to only show the spec")
    output = check_output_path(args.output) if args.output is not None else None
    _check_format(args.frames, args.size, args.fps)
    spec = _load_spec(args)
    if args.print_spec:
        print(spec.to_json())
    if output is not None:
        write_output(render(spec), output, spec.fps)
        print(f"wrote {output}: {describe_clip(spec.frames, spec.fps)}, {spec.size}x{spec.size} pixels")
    return 0


def run_caption(args: argparse.Namespace) -> int:
    from t2v.world.captions import MAX_CAPTIONS, canonical_caption, captions
    from t2v.world.sampling import sample_spec

    if not 1 <= args.n <= MAX_CAPTIONS:
        raise ValueError(f"--n must be in [1, {MAX_CAPTIONS}], got {args.n}")
    rng = random.Random(args.seed)
    spec = sample_spec(rng)
    if args.print_spec:
        print(spec.to_json())
    print(canonical_caption(spec))
    for text in captions(spec, rng, n=args.n, vocabulary=args.vocabulary):
        print(text)
    return 0
