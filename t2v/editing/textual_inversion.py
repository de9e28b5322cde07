"""Textual inversion of a reference image into a new token, for models without an image encoder.

A video model taught by one still image learns "still" along with the subject, so the training clips are
moving, shifted crops of the image: a crop window slides across it, the subject moves the other way, and
each clip is captioned with the direction the subject moves ("a <ref> moving left"), which the crop
geometry fixes; nothing reads the image's content to caption it. Only the new token's input embedding is
trained (through the frozen text encoder, so a bidirectional encoder contextualises it like any word).

Learning takes a few hundred steps, so the vector is cached under ``$T2V_CACHE/textual_inversion`` by the
image's hash, the model's hash and the settings.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from ..disk_cache import cache_root, content_key
from ..training.common import diffusion_loss, encode_clips

logger = logging.getLogger(__name__)

# Where the crop window slides, and the way the subject then moves in the frame.
SUBJECT_MOTION = {(1, 0): "left", (-1, 0): "right", (0, 1): "up", (0, -1): "down"}


@dataclass(frozen=True)
class TextualInversionConfig:
    """Settings of the token fit; all but ``token`` are part of the cache key."""

    token: str = "<ref>"
    steps: int = 300
    lr: float = 2e-2
    batch: int = 4
    clips: int = 32
    crop: float = 0.7  # crop side as a fraction of the image's shorter side
    travel: float = 0.25  # how far the window slides over a clip, as a fraction of the image
    init_word: str = "object"
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("steps", "batch", "clips"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not 0.2 <= self.crop <= 1.0:
            raise ValueError(f"crop must be in [0.2, 1], got {self.crop}")
        if not 0.0 < self.travel <= 1.0 - self.crop + 1e-9:
            raise ValueError(f"travel must be in (0, 1 - crop], got {self.travel}")
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr}")
        if not self.token or " " in self.token:
            raise ValueError(f"token must be one word, got {self.token!r}")


def as_rgb_array(image) -> np.ndarray:
    """A PIL image, a path or an array as ``uint8 (H, W, 3)``."""
    from PIL import Image

    if isinstance(image, (str, os.PathLike)):
        if not Path(image).is_file():
            raise FileNotFoundError(f"reference_image {str(image)!r} does not exist")
        with Image.open(image) as opened:
            return np.asarray(opened.convert("RGB"))
    if isinstance(image, Image.Image):
        return np.asarray(image.convert("RGB"))
    array = np.asarray(image)
    if array.ndim != 3 or array.shape[-1] != 3 or array.dtype != np.uint8:
        raise ValueError(f"reference_image must be a PIL image, a path or uint8 (H, W, 3), got {array.shape} "
                         f"{array.dtype}")
    return array


def moving_crops(image: np.ndarray, frames: int, size: int, count: int, config: TextualInversionConfig,
                 rng: random.Random) -> tuple[np.ndarray, list[str]]:
    """``count`` clips ``uint8 (N, F, size, size, 3)`` of a crop window sliding across ``image``, and the
    direction the image's content moves in each."""
    from PIL import Image

    height, width = image.shape[:2]
    side = config.crop * min(height, width)
    travel = config.travel * min(height, width)
    picture = Image.fromarray(image)
    clips, motions = [], []
    for _ in range(count):
        (dx, dy), motion = rng.choice(list(SUBJECT_MOTION.items()))
        span_x, span_y = width - side - abs(dx) * travel, height - side - abs(dy) * travel
        x0 = rng.uniform(0, max(0.0, span_x)) + (travel if dx < 0 else 0)
        y0 = rng.uniform(0, max(0.0, span_y)) + (travel if dy < 0 else 0)
        clip = []
        for f in range(frames):
            shift = travel * f / max(1, frames - 1)
            left, top = x0 + dx * shift, y0 + dy * shift
            box = (left, top, left + side, top + side)
            clip.append(np.asarray(picture.resize((size, size), Image.BILINEAR, box=box)))
        clips.append(np.stack(clip))
        motions.append(motion)
    return np.stack(clips), motions


def model_hash(pipe) -> str:
    """A fingerprint of the UNet and text encoder weights (shapes and sums), cheap next to a fit. Tokens
    added to the vocabulary (learned ones included) are left out, so installing a token keeps the hash."""
    digest = hashlib.sha256()
    embeddings = pipe.text_encoder.get_input_embeddings().weight
    base_vocab = int(pipe.tokenizer.vocab_size)
    for model in (pipe.unet, pipe.text_encoder):
        config = model.config.to_dict() if hasattr(model.config, "to_dict") else dict(model.config)
        config.pop("vocab_size", None)
        digest.update(json.dumps(config, sort_keys=True, default=str).encode())
        for name, tensor in model.state_dict().items():
            if tensor.data_ptr() == embeddings.data_ptr():
                tensor = tensor[:base_vocab]
            t = tensor.detach().float()
            digest.update(f"{name}{tuple(t.shape)}{float(t.sum()):.6e}{float(t.abs().sum()):.6e}".encode())
    return digest.hexdigest()


def image_hash(image: np.ndarray) -> str:
    return hashlib.sha256(image.tobytes() + str(image.shape).encode()).hexdigest()


def install_token(tokenizer, text_encoder, token: str, vector: torch.Tensor) -> int:
    """Add ``token`` to the tokenizer (kept whole) and set its input embedding; returns its id."""
    if token not in tokenizer.get_vocab():
        tokenizer.add_tokens([token])
        text_encoder.resize_token_embeddings(len(tokenizer), mean_resizing=False)
    token_id = tokenizer.convert_tokens_to_ids(token)
    with torch.no_grad():
        text_encoder.get_input_embeddings().weight[token_id] = vector.to(text_encoder.dtype)
    return token_id


def _encode_with_vector(pipe, texts: list[str], token_id: int, vector: torch.Tensor) -> torch.Tensor:
    tokens = pipe.tokenizer(texts, padding="max_length", max_length=pipe.tokenizer.model_max_length,
                            truncation=True, return_tensors="pt")
    ids = tokens.input_ids.to(vector.device)
    embeds = pipe.text_encoder.get_input_embeddings()(ids)
    embeds = torch.where((ids == token_id)[..., None], vector.to(embeds.dtype), embeds)
    mask = tokens.attention_mask.to(vector.device)
    return pipe.text_encoder(inputs_embeds=embeds, attention_mask=mask)[0]


def learn_token(pipe, image, config: TextualInversionConfig | None = None,
                cache_dir: str | os.PathLike | None = None) -> torch.Tensor:
    """The input embedding of ``config.token`` fitted to ``image`` (cached), installed in ``pipe``'s
    tokenizer and text encoder."""
    from safetensors.torch import load_file, save_file

    config = config or TextualInversionConfig()
    array = as_rgb_array(image)
    settings = {k: v for k, v in asdict(config).items() if k != "token"}
    key = content_key({"image": image_hash(array), "model": model_hash(pipe), "settings": settings})
    folder = Path(cache_dir).expanduser() if cache_dir is not None else cache_root() / "textual_inversion"
    path = folder / f"{key}.safetensors"
    if path.is_file():
        vector = load_file(str(path))["vector"]
        logger.info("textual inversion: cached token vector %s", path)
    else:
        vector = fit_token(pipe, array, config)
        folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".tmp")
        save_file({"vector": vector.contiguous()}, str(partial))
        partial.replace(path)
    install_token(pipe.tokenizer, pipe.text_encoder, config.token, vector)
    return vector


def fit_token(pipe, image: np.ndarray, config: TextualInversionConfig) -> torch.Tensor:
    """Fit the token's embedding on moving crops of ``image`` with the model's own diffusion loss."""
    from tqdm.auto import tqdm

    from .inversion import frozen

    rng = random.Random(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    device = pipe.unet.device
    frames = pipe.default_num_frames
    sample = pipe.unet.config.sample_size
    size = (sample if isinstance(sample, int) else sample[0]) * pipe.vae_scale_factor
    clips, motions = moving_crops(image, frames, size, config.clips, config, rng)
    latents = encode_clips(pipe.vae, clips).to(device, pipe.unet.dtype)
    install_token(pipe.tokenizer, pipe.text_encoder, config.token, torch.zeros(pipe.text_encoder.config.hidden_size))
    token_id = pipe.tokenizer.convert_tokens_to_ids(config.token)
    init_ids = pipe.tokenizer(config.init_word, add_special_tokens=False).input_ids
    weight = pipe.text_encoder.get_input_embeddings().weight
    vector = weight[init_ids].mean(0).detach().clone().float().requires_grad_(True)
    optimiser = torch.optim.AdamW([vector], lr=config.lr, weight_decay=0.0)
    scheduler = pipe.scheduler
    bar = tqdm(range(config.steps), desc="textual inversion", leave=False,
               disable=getattr(pipe, "_progress_bar_config", {}).get("disable", False))
    with torch.enable_grad(), frozen(pipe.unet), frozen(pipe.text_encoder):
        for _ in bar:
            chosen = [rng.randrange(len(clips)) for _ in range(config.batch)]
            texts = [f"a {config.token} moving {motions[i]}" for i in chosen]
            cond = _encode_with_vector(pipe, texts, token_id, vector)
            cond = cond.repeat_interleave(frames, dim=0)  # one row per frame, as the pipeline lays it out
            x0 = latents[chosen]
            noise = torch.randn(x0.shape, generator=generator).to(device, x0.dtype)
            timesteps = torch.randint(0, scheduler.config.num_train_timesteps, (len(chosen),), generator=generator)
            loss = diffusion_loss(pipe.unet, scheduler, x0, noise, timesteps.to(device), cond, snr_gamma=5.0)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            bar.set_postfix(loss=f"{float(loss.detach()):.4f}")
    return vector.detach().to(torch.float32)
