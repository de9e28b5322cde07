"""``t2v models``: what each model supports (frames, sizes, image conditioning, keyframes, experts, LoRA).

It reads each model's config files, never its weights, so it answers in a second for any size of model.
"""

from __future__ import annotations

import argparse
import json
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "models", help="what each model supports: frames, sizes, image conditioning, keyframes, experts",
        description="Print what each model supports, read from its configs (no weights are loaded): the frame "
                    "rule and size multiple, image conditioning (first frame, CLIP image encoder, native "
                    "first-last frame), keyframes at any index, reference images, experts, and where a LoRA goes.")
    parser.add_argument("models", nargs="*", metavar="MODEL",
                        help="'tiny-shapes' (default), a local folder or a hub id of an AnimateDiff or Wan model")
    parser.add_argument("--json", action="store_true", help="print one JSON object per model, one per line")
    parser.set_defaults(func=run)


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def describe(model: str, caps: dict[str, Any]) -> list[str]:
    """The lines ``t2v models`` prints for one model."""
    native = caps["native"]
    image = []
    if caps["first_frame"]:
        image.append("keyframe at any index" if caps["keyframes_any_index"] else "first frame")
    if caps["clip_image_encoder"]:
        image.append("CLIP image encoder")
    if caps["native_first_last_frame"]:
        first_last = "native (FLF2V)"
    elif caps["keyframes_any_index"]:
        first_last = "as keyframes (VACE)"
    else:
        first_last = "no"
    lines = [
        f"{model}: {caps['layout']} ({caps['pipeline']})",
        f"  text to video:      {_yes_no(caps['text_to_video'])}" + ("" if caps["text_to_video"] else
                                                                     " (needs a first image)"),
        f"  frames:             {caps['frame_rule']} (native {native['num_frames']} at {native['fps']} fps)",
        f"  size:               multiple of {caps['size_multiple']} (native {native['height']}x{native['width']})",
        f"  image conditioning: {', '.join(image) or 'none'}",
        f"  first-last frame:   {first_last}",
        f"  reference images:   {_yes_no(caps['reference_images'])}",
        f"  experts:            {2 if caps['two_experts'] else 1}",
        f"  LoRA goes into:     {' and '.join(caps['lora_targets'])}",
    ]
    lines += [f"  note: {note}" for note in caps["notes"]]
    return lines


def run(args: argparse.Namespace) -> int:
    from ..models.capabilities import model_capabilities

    names = args.models or ["tiny-shapes"]
    reports = [(name, model_capabilities(name)) for name in names]  # every model checked before any output
    for i, (name, caps) in enumerate(reports):
        if args.json:
            print(json.dumps({"model": name, **caps}))
            continue
        if i:
            print()
        print("\n".join(describe(name, caps)))
    return 0
