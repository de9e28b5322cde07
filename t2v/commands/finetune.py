"""``t2v finetune``: reward fine-tuning as a LoRA (the same entry as ``accelerate launch -m t2v.rewards.train``)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    from ..rewards.config import config_parser

    parser = subparsers.add_parser(
        "finetune", help="fine-tune a model towards a reward, saved as a LoRA",
        description="Reward fine-tuning recast as editing (InstructVideo). Fields come from --config (YAML or "
                    "JSON) and the options below, which override it. For several processes run "
                    "`accelerate launch -m t2v.rewards.train` with the same options.")
    config_parser(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..rewards.config import config_from_args
    from ..rewards.train import train

    cfg = config_from_args(args)  # a ValueError names the field: exit 2
    lora = train(cfg)
    print(f"wrote {lora} (load it with `t2v generate --lora {lora}` or pipe.load_lora_weights)")
    return 0
