"""The CLIP-family reward adapters (clip-score, pickscore, hpsv2, aesthetic) on tiny random models of the real
architectures, saved the way the real weights are laid out and loaded through ``load_reward``.

References are written here independently of the code under test: transformers' own ``CLIPModel.forward``
for the cosine, PIL's bicubic resize for the preprocessing, a small open_clip-layout CLIP (module names as in
open_clip's ``model.py``) for the HPSv2 key conversion, and improved-aesthetic-predictor's MLP for the head.
"""

from __future__ import annotations

import json
import math
from collections import OrderedDict

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from t2v.rewards import load_reward

MEAN = torch.tensor([0.48145466, 0.4578275, 0.40821073]).view(1, 3, 1, 1)
STD = torch.tensor([0.26862954, 0.26130258, 0.27577711]).view(1, 3, 1, 1)
IMAGE_SIZE, PATCH, CONTEXT = 32, 8, 16
WIDTH, LAYERS, HEADS, EMBED = 32, 2, 4, 16
PROMPTS = ["a red ball rolls left", "a blue cube grows"]


# ---------------------------------------------------------------- tiny components


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2/CLIP's reversible byte → printable character table."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs], strict=True))


def write_tiny_clip_tokenizer(folder) -> int:
    """A CLIP BPE tokenizer (every byte, a few merges) as vocab.json + merges.txt; returns the vocab size.
    ``<|endoftext|>`` gets the highest id, as in CLIP, so open_clip's argmax pooling finds it."""
    chars = list(_bytes_to_unicode().values())
    merges = [("r", "e"), ("b", "a"), ("l", "l</w>"), ("e", "d</w>")]
    tokens = chars + [c + "</w>" for c in chars] + ["".join(m) for m in merges] + ["<|startoftext|>", "<|endoftext|>"]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(tokens)}), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges), encoding="utf-8")
    return len(tokens)


def tiny_clip_config(vocab_size: int):
    from transformers import CLIPConfig

    text = {"vocab_size": vocab_size, "hidden_size": WIDTH, "intermediate_size": 4 * WIDTH, "num_hidden_layers": LAYERS,
            "num_attention_heads": HEADS, "max_position_embeddings": CONTEXT, "hidden_act": "gelu",
            "bos_token_id": vocab_size - 2, "eos_token_id": vocab_size - 1, "pad_token_id": vocab_size - 1}
    vision = {"hidden_size": WIDTH, "intermediate_size": 4 * WIDTH, "num_hidden_layers": LAYERS,
              "num_attention_heads": HEADS, "image_size": IMAGE_SIZE, "patch_size": PATCH, "hidden_act": "gelu"}
    return CLIPConfig(text_config=text, vision_config=vision, projection_dim=EMBED)


def features(output) -> torch.Tensor:
    """``get_*_features`` output as a tensor (a ModelOutput from transformers 5 on)."""
    return output if torch.is_tensor(output) else output.pooler_output


def normalise(frames: torch.Tensor) -> torch.Tensor:
    """CLIP pixel values of frames already at the model's size: only ``(x - mean) / std``."""
    return (frames - MEAN) / STD


@pytest.fixture(scope="session")
def tokenizer_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tokenizer")
    write_tiny_clip_tokenizer(folder)
    return folder


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory, tokenizer_dir):
    """A random CLIPModel with its tokenizer, saved as transformers saves CLIP (safetensors)."""
    from transformers import CLIPModel, CLIPTokenizer

    tokenizer = CLIPTokenizer.from_pretrained(tokenizer_dir)
    torch.manual_seed(0)
    model = CLIPModel(tiny_clip_config(len(tokenizer)))
    folder = tmp_path_factory.mktemp("clip")
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


# open_clip's CLIP, module names as in open_clip/model.py (ResidualAttentionBlock, VisualTransformer, CLIP), so its
# state dict has exactly open_clip's keys; GELU as in ViT-H-14 (quick_gelu=False).


class OpenClipBlock(nn.Module):
    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(width, heads)
        self.ln_1 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(OrderedDict([("c_fc", nn.Linear(width, 4 * width)), ("gelu", nn.GELU()),
                                              ("c_proj", nn.Linear(4 * width, width))]))
        self.ln_2 = nn.LayerNorm(width)

    def forward(self, x: torch.Tensor, attn_mask: torch.Tensor | None = None) -> torch.Tensor:
        y = self.ln_1(x)
        x = x + self.attn(y, y, y, need_weights=False, attn_mask=attn_mask)[0]
        return x + self.mlp(self.ln_2(x))


class OpenClipTransformer(nn.Module):
    def __init__(self, width: int, layers: int, heads: int) -> None:
        super().__init__()
        self.resblocks = nn.ModuleList([OpenClipBlock(width, heads) for _ in range(layers)])

    def forward(self, x: torch.Tensor, attn_mask: torch.Tensor | None = None) -> torch.Tensor:
        for block in self.resblocks:
            x = block(x, attn_mask=attn_mask)
        return x


class OpenClipVisual(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        grid = IMAGE_SIZE // PATCH
        self.conv1 = nn.Conv2d(3, WIDTH, kernel_size=PATCH, stride=PATCH, bias=False)
        self.class_embedding = nn.Parameter(torch.randn(WIDTH))
        self.positional_embedding = nn.Parameter(torch.randn(grid * grid + 1, WIDTH))
        self.ln_pre = nn.LayerNorm(WIDTH)
        self.transformer = OpenClipTransformer(WIDTH, LAYERS, HEADS)
        self.ln_post = nn.LayerNorm(WIDTH)
        self.proj = nn.Parameter(torch.randn(WIDTH, EMBED))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x).flatten(2).permute(0, 2, 1)
        x = torch.cat([self.class_embedding.expand(x.shape[0], 1, -1), x], dim=1) + self.positional_embedding
        x = self.transformer(self.ln_pre(x).permute(1, 0, 2)).permute(1, 0, 2)
        return self.ln_post(x[:, 0, :]) @ self.proj


class OpenClipReference(nn.Module):
    def __init__(self, vocab_size: int) -> None:
        super().__init__()
        self.visual = OpenClipVisual()
        self.transformer = OpenClipTransformer(WIDTH, LAYERS, HEADS)
        self.token_embedding = nn.Embedding(vocab_size, WIDTH)
        self.positional_embedding = nn.Parameter(torch.empty(CONTEXT, WIDTH))
        self.ln_final = nn.LayerNorm(WIDTH)
        self.text_projection = nn.Parameter(torch.empty(WIDTH, EMBED))
        self.logit_scale = nn.Parameter(torch.ones([]) * np.log(1 / 0.07))
        self.register_buffer("attn_mask", torch.full((CONTEXT, CONTEXT), float("-inf")).triu_(1), persistent=False)
        generator = torch.Generator().manual_seed(1)
        with torch.no_grad():  # every weight random (biases too), so a swapped q/k/v or a missing transpose shows
            for name, param in self.named_parameters():
                noise = 0.2 * torch.randn(param.shape, generator=generator)
                param.copy_(1 + noise if name.endswith(("ln_1.weight", "ln_2.weight", "ln_pre.weight",
                                                         "ln_post.weight", "ln_final.weight")) else noise)

    def encode_image(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.visual(pixels)

    def encode_text(self, text: torch.Tensor) -> torch.Tensor:
        x = self.token_embedding(text) + self.positional_embedding
        x = self.transformer(x.permute(1, 0, 2), attn_mask=self.attn_mask).permute(1, 0, 2)
        x = self.ln_final(x)
        return x[torch.arange(x.shape[0]), text.argmax(dim=-1)] @ self.text_projection


def open_clip_tokens(tokenizer, prompts: list[str]) -> torch.Tensor:
    """open_clip's tokenize(): start, BPE, end, zero padding to the context length; a long prompt is cut and its
    last token made the end token."""
    eot = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    out = torch.zeros(len(prompts), CONTEXT, dtype=torch.long)
    for i, prompt in enumerate(prompts):
        row = tokenizer(prompt)["input_ids"]
        if len(row) > CONTEXT:
            row = row[:CONTEXT - 1] + [eot]
        out[i, :len(row)] = torch.tensor(row)
    return out


@pytest.fixture(scope="session")
def open_clip_model(tokenizer_dir):
    from transformers import CLIPTokenizer

    return OpenClipReference(len(CLIPTokenizer.from_pretrained(tokenizer_dir))).eval()


@pytest.fixture(scope="session")
def hpsv2_dir(tmp_path_factory, tokenizer_dir, open_clip_model):
    """HPSv2's checkpoint layout ({"state_dict": ...} of a DDP-wrapped open_clip model), converted."""
    from t2v.rewards.hpsv2 import convert_hpsv2_checkpoint

    state = {"module." + k: v.clone() for k, v in open_clip_model.state_dict().items()}
    out = tmp_path_factory.mktemp("hps") / "hpsv2"
    config = tiny_clip_config(open_clip_model.token_embedding.num_embeddings)
    return convert_hpsv2_checkpoint({"state_dict": state, "epoch": 1}, out, tokenizer_dir=tokenizer_dir, config=config)


class OriginalAestheticMLP(nn.Module):
    """improved-aesthetic-predictor's MLP (simple_inference.py), without its Lightning base."""

    def __init__(self, input_size: int) -> None:
        super().__init__()
        self.input_size = input_size
        self.layers = nn.Sequential(nn.Linear(self.input_size, 1024), nn.Dropout(0.2), nn.Linear(1024, 128),
                                    nn.Dropout(0.2), nn.Linear(128, 64), nn.Dropout(0.1), nn.Linear(64, 16),
                                    nn.Linear(16, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


ORIGINAL_HEAD_KEYS = {f"layers.{i}.{kind}" for i in (0, 2, 4, 6, 7) for kind in ("weight", "bias")}


@pytest.fixture(scope="session")
def aesthetic_head(tmp_path_factory):
    from t2v.rewards.aesthetic import convert_aesthetic_head

    torch.manual_seed(2)
    original = OriginalAestheticMLP(EMBED).eval()
    path = convert_aesthetic_head(original.state_dict(), tmp_path_factory.mktemp("head") / "aesthetic_head.safetensors")
    return original, path


@pytest.fixture(scope="session")
def load_kwargs(clip_dir, hpsv2_dir, aesthetic_head):
    return {"clip-score": {"path": clip_dir}, "pickscore": {"path": clip_dir}, "hpsv2": {"path": hpsv2_dir},
            "aesthetic": {"path": aesthetic_head[1], "clip_path": clip_dir}}


def smooth_frames(batch: int, num: int, height: int, width: int, seed: int = 0) -> torch.Tensor:
    """Frames in [0, 1] without pixel-level noise (so resampling differences stay small)."""
    generator = torch.Generator().manual_seed(seed)
    low = torch.rand(batch * num, 3, 4, 5, generator=generator)
    frames = F.interpolate(low, size=(height, width), mode="bilinear", align_corners=True)
    return frames.view(batch, num, 3, height, width)


# ---------------------------------------------------------------- every adapter

ALL = ["clip-score", "pickscore", "hpsv2", "aesthetic"]


@pytest.mark.parametrize("name", ALL)
def test_scores_every_frame_and_passes_gradients_to_frames(name, load_kwargs):
    reward = load_reward(name, **load_kwargs[name], device="cpu")
    assert reward.per_frame and reward.differentiable and reward.name == name
    frames = smooth_frames(2, 3, 40, 48).requires_grad_(True)  # not the model's size: the resize path runs
    scores = reward(frames, PROMPTS)
    assert scores.shape == (2, 3) and torch.isfinite(scores).all()
    assert len(set(scores.flatten().tolist())) > 1  # frames differ, so do their scores
    scores.sum().backward()
    assert frames.grad is not None and frames.grad.abs().sum() > 0 and torch.isfinite(frames.grad).all()
    assert not any(p.requires_grad for p in reward.model.parameters())  # frozen: the reward is not trained


@pytest.mark.parametrize("name", ["clip-score", "pickscore", "hpsv2"])
def test_matching_and_shuffled_prompts_score_differently(name, load_kwargs):
    reward = load_reward(name, **load_kwargs[name], device="cpu")
    frames = smooth_frames(2, 2, IMAGE_SIZE, IMAGE_SIZE)
    with torch.no_grad():
        matched, shuffled = reward(frames, PROMPTS), reward(frames, PROMPTS[::-1])
    assert not torch.allclose(matched, shuffled, atol=1e-4)
    # one prompt per video: swapping the videos and the prompts together gives the same scores, swapped
    with torch.no_grad():
        swapped = reward(frames.flip(0), PROMPTS[::-1])
    torch.testing.assert_close(swapped, matched.flip(0), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", ALL)
def test_bad_inputs_raise_value_error_naming_the_argument(name, load_kwargs):
    reward = load_reward(name, **load_kwargs[name], device="cpu")
    frames = smooth_frames(2, 2, IMAGE_SIZE, IMAGE_SIZE)
    with pytest.raises(ValueError, match="frames"):
        reward(frames[:, 0], PROMPTS)  # (B, 3, H, W): no frame axis
    with pytest.raises(ValueError, match="frames"):
        reward(frames[:, :, :1], PROMPTS)  # one channel
    with pytest.raises(ValueError, match="prompts"):
        reward(frames, PROMPTS[:1])


@pytest.mark.parametrize("name", ALL)
def test_missing_weights_raise_a_clear_error(name, tmp_path):
    with pytest.raises(FileNotFoundError, match=name) as no_path:
        load_reward(name)
    assert "no path was given" in str(no_path.value) and "never downloads" in str(no_path.value)
    with pytest.raises(FileNotFoundError, match="safetensors"):
        load_reward(name, path=tmp_path / "absent")
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "pytorch_model.bin").write_bytes(b"pickle")
    if name == "aesthetic":
        with pytest.raises(FileNotFoundError, match="aesthetic_head.safetensors"):
            load_reward(name, path=tmp_path)
        (tmp_path / "aesthetic_head.safetensors").write_bytes(b"")  # a head, but the CLIP is still pickled
    with pytest.raises(FileNotFoundError, match=r"pytorch_model\.bin.*does not load"):
        load_reward(name, path=tmp_path)


# ---------------------------------------------------------------- CLIP score and PickScore


def test_clip_score_is_transformers_cosine(clip_dir):
    from transformers import CLIPModel, CLIPTokenizer

    reward = load_reward("clip-score", path=clip_dir, device="cpu")
    scaled = load_reward("clip-score", path=clip_dir, scale=2.5, device="cpu")
    model, tokenizer = CLIPModel.from_pretrained(clip_dir).eval(), CLIPTokenizer.from_pretrained(clip_dir)
    frames = smooth_frames(2, 1, IMAGE_SIZE, IMAGE_SIZE, seed=3)
    tokens = tokenizer(PROMPTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        out = model(input_ids=tokens["input_ids"], attention_mask=tokens["attention_mask"],
                    pixel_values=normalise(frames[:, 0]))
        expected = out.logits_per_image.diagonal() / model.logit_scale.exp()
        got, got_scaled = reward(frames, PROMPTS)[:, 0], scaled(frames, PROMPTS)[:, 0]
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(got_scaled, 2.5 * expected, atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="scale"):
        load_reward("clip-score", path=clip_dir, scale=0)


def test_pickscore_scales_the_cosine_by_the_learned_temperature(clip_dir):
    clip = load_reward("clip-score", path=clip_dir, device="cpu")
    pick = load_reward("pickscore", path=clip_dir, device="cpu")
    temperature = math.exp(pick.model.logit_scale.item())
    assert temperature > 1.5  # not a no-op, so the check below can fail
    frames = smooth_frames(2, 2, 36, 36, seed=4)
    with torch.no_grad():
        torch.testing.assert_close(pick(frames, PROMPTS), temperature * clip(frames, PROMPTS), atol=1e-4, rtol=1e-5)


def test_preprocessing_follows_pil_bicubic_resize_and_centre_crop():
    from PIL import Image

    from t2v.rewards.clip_common import preprocess_frames

    frames = smooth_frames(1, 1, 40, 48, seed=5)[0]
    pixels = (frames[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    frames = torch.from_numpy(pixels).permute(2, 0, 1)[None].float() / 255  # the same pixels PIL sees
    resized = Image.fromarray(pixels).resize((38, 32), Image.BICUBIC)  # shortest side 40 → 32, 48 → int(38.4)
    left = (38 - IMAGE_SIZE) // 2
    expected = torch.from_numpy(np.array(resized)[:, left:left + IMAGE_SIZE]).permute(2, 0, 1).float() / 255
    got = preprocess_frames(frames, IMAGE_SIZE, (0.0, 0.0, 0.0), (1.0, 1.0, 1.0))[0]
    assert got.shape == (3, IMAGE_SIZE, IMAGE_SIZE)
    assert (got - expected).abs().max() < 2.5 / 255  # PIL rounds to uint8
    normalised = preprocess_frames(frames, IMAGE_SIZE, MEAN.flatten().tolist(), STD.flatten().tolist())[0]
    torch.testing.assert_close(normalised, normalise(got[None])[0])


def test_reward_loads_in_bfloat16(clip_dir):
    reward = load_reward("clip-score", path=clip_dir, dtype="bfloat16", device="cpu")
    assert reward.model.dtype == torch.bfloat16
    frames = smooth_frames(1, 2, IMAGE_SIZE, IMAGE_SIZE).requires_grad_(True)
    scores = reward(frames, PROMPTS[:1])
    scores.sum().backward()
    assert scores.dtype == torch.float32 and torch.isfinite(frames.grad).all()


# ---------------------------------------------------------------- HPSv2


def test_hpsv2_conversion_reproduces_open_clip_embeddings(hpsv2_dir, open_clip_model, tokenizer_dir):
    from transformers import CLIPModel, CLIPTokenizer

    converted = CLIPModel.from_pretrained(hpsv2_dir).eval()
    tokenizer = CLIPTokenizer.from_pretrained(tokenizer_dir)
    frames = smooth_frames(3, 1, IMAGE_SIZE, IMAGE_SIZE, seed=6)[:, 0]
    prompts = [*PROMPTS, "a long prompt that runs well past the tiny context of sixteen tokens"]
    text = open_clip_tokens(tokenizer, prompts)
    assert (text[-1] != 0).all()  # the long prompt fills the context, so truncation is exercised
    tokens = tokenizer(prompts, padding=True, truncation=True, max_length=CONTEXT, return_tensors="pt")
    with torch.no_grad():
        ref_image, ref_text = open_clip_model.encode_image(normalise(frames)), open_clip_model.encode_text(text)
        image = features(converted.get_image_features(pixel_values=normalise(frames)))
        text_out = features(converted.get_text_features(input_ids=tokens["input_ids"],
                                                        attention_mask=tokens["attention_mask"]))
    torch.testing.assert_close(image, ref_image, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(text_out, ref_text, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(converted.logit_scale.detach(), open_clip_model.logit_scale.detach())

    # end to end: HPSv2's score is the cosine of open_clip's normalised features
    reward = load_reward("hpsv2", path=hpsv2_dir, device="cpu")
    with torch.no_grad():
        got = reward(frames[:, None], prompts)[:, 0]
    expected = (F.normalize(ref_image, dim=-1) * F.normalize(ref_text, dim=-1)).sum(-1)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


def test_hpsv2_conversion_refuses_what_it_cannot_place(tmp_path, open_clip_model, tokenizer_dir):
    from t2v.rewards.hpsv2 import convert_hpsv2_checkpoint, open_clip_to_transformers

    state = dict(open_clip_model.state_dict())
    with pytest.raises(ValueError, match="visual.transformer.resblocks.0.ls_1.gamma"):
        open_clip_to_transformers({**state, "visual.transformer.resblocks.0.ls_1.gamma": torch.ones(WIDTH)})
    config = tiny_clip_config(open_clip_model.token_embedding.num_embeddings)
    config.vision_config.num_hidden_layers = LAYERS + 1  # the checkpoint has one layer fewer
    with pytest.raises(ValueError, match="config does not fit"):
        convert_hpsv2_checkpoint(state, tmp_path / "out", tokenizer_dir=tokenizer_dir, config=config)
    assert not (tmp_path / "out").exists() and list(tmp_path.iterdir()) == []  # nothing half-written left
    with pytest.raises(ValueError, match="weights_only"):
        convert_hpsv2_checkpoint(tmp_path / "HPS_v2_compressed.pt", tmp_path / "out", tokenizer_dir=tokenizer_dir)


def test_hpsv2_conversion_reads_an_open_clip_safetensors_file(tmp_path, open_clip_model, tokenizer_dir, hpsv2_dir):
    from safetensors.torch import load_file, save_file

    from t2v.rewards.hpsv2 import convert_hpsv2_checkpoint

    save_file({k: v.contiguous() for k, v in open_clip_model.state_dict().items()}, tmp_path / "open_clip.safetensors")
    config = tiny_clip_config(open_clip_model.token_embedding.num_embeddings)
    out = convert_hpsv2_checkpoint(tmp_path / "open_clip.safetensors", tmp_path / "out", tokenizer_dir=tokenizer_dir,
                                   config=config)
    ours, theirs = load_file(out / "model.safetensors"), load_file(hpsv2_dir / "model.safetensors")
    assert ours.keys() == theirs.keys()
    assert all(torch.equal(ours[k], theirs[k]) for k in ours)


# ---------------------------------------------------------------- aesthetic


def test_aesthetic_head_keeps_the_original_key_names():
    from t2v.rewards.aesthetic import AestheticMLP

    assert set(AestheticMLP(768).state_dict()) == ORIGINAL_HEAD_KEYS
    assert set(OriginalAestheticMLP(768).state_dict()) == ORIGINAL_HEAD_KEYS
    shapes = {k: tuple(v.shape) for k, v in AestheticMLP(768).state_dict().items()}
    assert shapes == {k: tuple(v.shape) for k, v in OriginalAestheticMLP(768).state_dict().items()}


def test_aesthetic_score_is_the_original_head_on_unit_clip_embeddings(load_kwargs, aesthetic_head, clip_dir):
    from safetensors.torch import load_file
    from transformers import CLIPModel

    original, head_file = aesthetic_head
    assert set(load_file(head_file)) == ORIGINAL_HEAD_KEYS
    reward = load_reward("aesthetic", **load_kwargs["aesthetic"], device="cpu")
    clip = CLIPModel.from_pretrained(clip_dir).eval()
    frames = smooth_frames(2, 2, IMAGE_SIZE, IMAGE_SIZE, seed=7)
    with torch.no_grad():
        embeds = features(clip.get_image_features(pixel_values=normalise(frames.flatten(0, 1))))
        expected = original(embeds / embeds.norm(dim=-1, keepdim=True)).view(2, 2)
        got = reward(frames, PROMPTS)
        ignored = reward(frames, ["anything", "at all"])
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(ignored, got)  # prompts do not change an aesthetic score


def test_aesthetic_refuses_a_head_of_the_wrong_size(tmp_path, clip_dir):
    from t2v.rewards.aesthetic import convert_aesthetic_head

    head = convert_aesthetic_head(OriginalAestheticMLP(EMBED + 1).state_dict(), tmp_path / "aesthetic_head.safetensors")
    with pytest.raises(ValueError, match="ViT-L/14"):
        load_reward("aesthetic", path=head, clip_path=clip_dir, device="cpu")
    bad = dict(OriginalAestheticMLP(EMBED).state_dict())
    bad.pop("layers.7.bias")
    with pytest.raises(ValueError, match="layout"):
        convert_aesthetic_head(bad, tmp_path / "other.safetensors")
    assert not (tmp_path / "other.safetensors").exists()
