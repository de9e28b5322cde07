"""Train the shapes-alignment reward's network on rendered frames of the training split and on those frames
passed through tiny-shapes' VAE (what anything the model decodes looks like).

The data never holds a held-out attribute combination (:mod:`t2v.world.holdout`), the quality benchmark's
test split or the reward fine-tuning's validation prompts: scenes come from their own seed and every scene
with a held-out object is skipped.

    python -m t2v.rewards.shapes_alignment.fit --out rewards/weights/shapes-alignment [--clips 4000]
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from t2v.training.checkpoint import write_folder_atomically
from t2v.training.common import lr_at, reconstruct
from t2v.world.holdout import sample_training_spec
from t2v.world.render import object_coverage, render

from .network import ShapesPerception
from .targets import Targets, pixel_labels, targets_for, visible_objects

logger = logging.getLogger(__name__)
DATA_SEED = 4242  # not a seed of any prompt split (t2v.world.splits)


@dataclass
class FitConfig:
    out: str = "rewards/weights/shapes-alignment"  # folder written: config.json, model.safetensors, metrics
    clips: int = 4000  # training-split scenes rendered (8 frames each); a tenth is kept for validation
    steps: int = 3000  # optimiser steps
    batch: int = 256  # frames per step
    lr: float = 2e-3  # peak AdamW learning rate (warm-up, cosine decay)
    width: int = 16  # network width
    object_pixel_weight: float = 4.0  # object pixels count this much more than background in the pixel loss
    model: str = "tiny-shapes"  # whose VAE reconstructs the frames
    seed: int = DATA_SEED


def build_frames(cfg: FitConfig) -> tuple[torch.Tensor, torch.Tensor, Targets]:
    """Frames ``(N, 3, H, W)`` in [0, 1] (rendered, then their VAE reconstructions), pixel labels and targets."""
    from t2v.models import load_pipeline

    pipe = load_pipeline(cfg.model)
    size = pipe.unet.config.sample_size * pipe.vae_scale_factor
    frames_per_clip = int(pipe.config.get("native_num_frames") or 8)
    rng = random.Random(cfg.seed)
    frames, recons, labels, targets = [], [], [], []
    while len(frames) < cfg.clips:
        spec = sample_training_spec(rng, frames=frames_per_clip, size=size, two_objects=0.4)
        clip = render(spec)
        coverage = object_coverage(spec)
        visible = visible_objects(coverage)
        frames.append(clip)
        recons.append(reconstruct(pipe.vae, clip))
        labels.append(pixel_labels(spec, coverage))
        targets.extend(targets_for(spec, list(v)) for v in visible)
    pixels = np.concatenate([np.concatenate(frames), np.concatenate(recons)])
    x = torch.from_numpy(pixels).permute(0, 3, 1, 2).float().div(255.0)
    y = torch.from_numpy(np.concatenate(labels))
    t = Targets.stack(targets)
    return x, torch.cat([y, y]), Targets.stack([t, t])


def losses(net: ShapesPerception, x: torch.Tensor, y: torch.Tensor, t: Targets, object_weight: float) -> dict:
    out = net(x)
    weight = torch.where(y > 0, object_weight, 1.0)
    pixel = (F.cross_entropy(out["pixel_logits"], y, reduction="none") * weight).sum() / weight.sum()
    count = F.cross_entropy(out["count"].flatten(0, 1), t.count.flatten())
    shown = (t.count > 0).float()
    shape = (F.binary_cross_entropy_with_logits(out["shape"], t.shapes, reduction="none").sum(-1) * shown).sum() \
        / shown.sum().clamp_min(1)
    sized = shown * t.size_known.float()
    size = (F.binary_cross_entropy_with_logits(out["size"], t.sizes, reduction="none").sum(-1) * sized).sum() \
        / sized.sum().clamp_min(1)
    background = F.cross_entropy(out["background"], t.background)
    return {"pixel": pixel, "count": count, "shape": shape, "size": size, "background": background, "out": out}


@torch.no_grad()
def accuracy(net: ShapesPerception, x: torch.Tensor, y: torch.Tensor, t: Targets) -> dict[str, float]:
    """Per-check accuracy on held-back frames of the training distribution."""
    net.eval()
    hits: dict[str, list[torch.Tensor]] = {k: [] for k in ("pixel", "count", "shape", "size", "background")}
    for start in range(0, len(x), 1024):
        sl = slice(start, start + 1024)
        tb = t.select(sl)
        out = net(x[sl])
        hits["pixel"].append((out["pixel_logits"].argmax(1) == y[sl]).float().flatten())
        hits["count"].append((out["count"].argmax(-1) == tb.count).float().flatten())
        shown = tb.count == 1
        hits["shape"].append((out["shape"].argmax(-1) == tb.shapes.argmax(-1))[shown].float())
        sized = shown & tb.size_known
        hits["size"].append((out["size"].argmax(-1) == tb.sizes.argmax(-1))[sized].float())
        hits["background"].append((out["background"].argmax(-1) == tb.background).float())
    net.train()
    return {k: round(float(torch.cat(v).mean()), 4) for k, v in hits.items()}


def fit(cfg: FitConfig) -> dict[str, float]:
    torch.manual_seed(cfg.seed)
    start = time.time()
    x, y, t = build_frames(cfg)
    logger.info("built %d frames in %.0f s", len(x), time.time() - start)
    n = len(x) // 2  # rendered first, reconstructions second: hold back the same clips' frames in both
    frames_per_clip = n // cfg.clips
    val_frames = (cfg.clips // 10) * frames_per_clip
    is_val = torch.zeros(len(x), dtype=torch.bool)
    is_val[n - val_frames:n] = True
    is_val[2 * n - val_frames:] = True
    split = {name: mask.nonzero().squeeze(1) for name, mask in (("train", ~is_val), ("val", is_val))}
    net = ShapesPerception(width=cfg.width)
    optimizer = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=1e-4)
    gen = torch.Generator().manual_seed(cfg.seed)
    train_idx = split["train"]
    for step in range(cfg.steps):
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, cfg.lr, 100, cfg.steps)
        idx = train_idx[torch.randint(0, len(train_idx), (cfg.batch,), generator=gen)]
        tb = t.select(idx)
        parts = losses(net, x[idx], y[idx], tb, cfg.object_pixel_weight)
        loss = sum(v for k, v in parts.items() if k != "out")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if (step + 1) % 250 == 0:
            logger.info("step %d/%d loss %.4f (%s)", step + 1, cfg.steps, loss.item(),
                        ", ".join(f"{k} {v.item():.3f}" for k, v in parts.items() if k != "out"))
    vi = split["val"]
    val = accuracy(net, x[vi], y[vi], t.select(vi))
    def write(folder: Path) -> None:
        save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(folder / "model.safetensors"))
        (folder / "config.json").write_text(json.dumps({"width": cfg.width}, indent=2) + "\n")
        (folder / "training.json").write_text(json.dumps({"config": asdict(cfg), "validation_accuracy": val,
                                                          "seconds": round(time.time() - start)}, indent=2) + "\n")

    out = write_folder_atomically(cfg.out, write)
    logger.info("validation accuracy %s; wrote %s", val, out)
    return val


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name, value in asdict(FitConfig()).items():
        parser.add_argument("--" + name.replace("_", "-"), type=type(value), default=value)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    print(json.dumps(fit(FitConfig(**vars(args)))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
