"""GPU check: seconds per denoising step and peak memory of each t2v pipeline, on a lent GPU.

Two models, no download: the embedded ``tiny-shapes`` (its shipped UNet and VAE; the text encoder is a random
one of the same MiniLM shape, since only its output's shape matters to the timing), and a Wan with the real
2.1 T2V 1.3B transformer config (30 blocks, width 1536) and the real 2.1 VAE config, with random bf16 weights
made on ``meta`` and materialised on the device (buffers kept), plus a small random UMT5 text encoder of Wan's
text width.
Wan runs at 480×832 and 33 frames. Random weights: only the time and memory figures mean anything.

Pipelines timed, each after a warm-up call: tiny-shapes plain generation (stock ``AnimateDiffPipeline``
path) and a two-scene story (``MultiSceneAnimateDiffPipeline``); Wan plain generation (``T2VWanPipeline``, the
stock ``WanPipeline`` loop), the shared loop with keyframes at the first, middle and last frame
(``TransitionWanPipeline.generate_with_given``) and with per-latent-frame prompts. Per-step seconds come from
``callback_on_step_end`` timestamps (synchronised), so decoding is reported apart.

    bash benchmarks/gpu_check.sh            # on the device (installs the carried wheels first)
    python benchmarks/gpu_check.py --device cpu --wan-layers 1 --wan-size 64 --wan-frames 5 --steps 2   # smoke

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
WAN_1_3B = dict(patch_size=(1, 2, 2), num_attention_heads=12, attention_head_dim=128, in_channels=16, out_channels=16,
                text_dim=4096, freq_dim=256, ffn_dim=8960, num_layers=30, cross_attn_norm=True,
                qk_norm="rms_norm_across_heads", eps=1e-6, rope_max_seq_len=1024)


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class StepClock:
    """``callback_on_step_end`` that records when each step ended."""

    def __init__(self, device: torch.device) -> None:
        self.device, self.marks = device, [time.perf_counter()]

    def __call__(self, pipe, step: int, timestep, tensors: dict) -> dict:
        synchronize(self.device)
        self.marks.append(time.perf_counter())
        return tensors

    def seconds_per_step(self) -> float:
        gaps = np.diff(self.marks[1:])  # the first step also holds set-up work: left out when there are others
        return float(np.mean(gaps)) if len(gaps) else float(self.marks[-1] - self.marks[0])


def measure(name: str, device: torch.device, run: Callable[[StepClock], None]) -> dict:
    """Warm up once, then time one call: seconds per step, the whole call, and the peak memory."""
    run(StepClock(device))
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    clock = StepClock(device)
    start = time.perf_counter()
    run(clock)
    synchronize(device)
    total = time.perf_counter() - start
    peak = torch.cuda.max_memory_allocated(device) / 2 ** 30 if device.type == "cuda" else None
    result = {"seconds_per_step": round(clock.seconds_per_step(), 4), "seconds": round(total, 3),
              "steps": len(clock.marks) - 1, "peak_gib": None if peak is None else round(peak, 2)}
    print(f"{name}: {result}", flush=True)
    return result


def random_minilm(device: torch.device):
    """A random text encoder of MiniLM's shape (the tiny-shapes encoder's architecture)."""
    from transformers import BertConfig, BertModel

    config = BertConfig(hidden_size=384, num_hidden_layers=6, num_attention_heads=12, intermediate_size=1536)
    return BertModel(config, add_pooling_layer=False).eval().to(device)


def tiny_shapes_checks(device: torch.device, steps: int) -> dict:
    from diffusers import AutoencoderKL, DDIMScheduler, UNetMotionModel

    from t2v.pipelines import MultiSceneAnimateDiffPipeline, T2VAnimateDiffPipeline
    from t2v.story import Entity, Scene, Script

    folder = ROOT / "t2v" / "weights" / "tiny-shapes"
    card = json.loads((folder / "t2v_model.json").read_text())
    pipe = T2VAnimateDiffPipeline(
        vae=AutoencoderKL.from_pretrained(folder / "vae"), text_encoder=None, tokenizer=None,
        unet=UNetMotionModel.from_pretrained(folder / "unet"), motion_adapter=None,
        scheduler=DDIMScheduler.from_pretrained(folder / "scheduler"), native_num_frames=int(card["frames"]),
        native_fps=int(card.get("fps", 8)), native_guidance_scale=float(card.get("guidance", 4.0))).to(device)
    pipe.set_progress_bar_config(disable=True)
    encoder = random_minilm(device)
    with torch.no_grad():
        embeds = encoder(torch.randint(0, 30000, (2, 16), device=device)).last_hidden_state
    positive, negative = embeds[:1], embeds[1:]

    def plain(clock: StepClock) -> None:
        pipe(prompt_embeds=positive, negative_prompt_embeds=negative, num_inference_steps=steps,
             generator=torch.Generator().manual_seed(0), output_type="np", callback_on_step_end=clock)

    story_pipe = MultiSceneAnimateDiffPipeline.from_pipe(pipe)
    story_pipe.encode_prompt = lambda *a, **k: (positive, negative)  # the random encoder stands in for MiniLM
    script = Script(entities=[Entity("ball", "a big red ball")], seed=0, scenes=[
        Scene(prompt="a big red ball moving right", entities=["ball"]),
        Scene(prompt="a big red ball bouncing", entities=["ball"])])

    def story(clock: StepClock) -> None:
        story_pipe(script, num_inference_steps=steps, callback_on_step_end=clock)

    return {"size": int(card["size"]), "frames": int(card["frames"]),
            "plain": measure("tiny-shapes plain", device, plain),
            "story_two_scenes": measure("tiny-shapes two-scene story", device, story)}


def random_wan(device: torch.device, dtype: torch.dtype, layers: int, frames: int, size: tuple[int, int]):
    """T2VWanPipeline at the 1.3B transformer config (random, made on meta, then on ``device``) and the real VAE
    config; a 2-layer random UMT5 of width 4096 for text."""
    from accelerate import init_empty_weights
    from accelerate.utils import set_module_tensor_to_device
    from diffusers import AutoencoderKLWan, FlowMatchEulerDiscreteScheduler, WanTransformer3DModel
    from transformers import UMT5Config, UMT5EncoderModel

    from t2v.pipelines import T2VWanPipeline

    with init_empty_weights():  # parameters on meta (no 5 GB of fp32 on the host); buffers such as RoPE's stay real
        transformer = WanTransformer3DModel(**{**WAN_1_3B, "num_layers": layers})
    generator = torch.Generator(device=device).manual_seed(0)
    for name, parameter in list(transformer.named_parameters()):
        value = torch.randn(parameter.shape, generator=generator, device=device, dtype=dtype) * 0.02
        set_module_tensor_to_device(transformer, name, device, value=value)
    transformer = transformer.to(device).eval()
    vae = AutoencoderKLWan().to(device).eval()  # fp32, as Wan's VAE is run
    encoder = UMT5EncoderModel(UMT5Config(vocab_size=1000, d_model=4096, d_kv=64, d_ff=1024, num_layers=2,
                                          num_heads=8)).to(device, dtype).eval()
    pipe = T2VWanPipeline(tokenizer=None, text_encoder=None, vae=vae, transformer=transformer,
                                 scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0), native_num_frames=frames,
                                 native_height=size[0], native_width=size[1])
    pipe.set_progress_bar_config(disable=True)
    return pipe, encoder


def wan_checks(device: torch.device, steps: int, layers: int, frames: int, size: tuple[int, int]) -> dict:
    from t2v.pipelines import TransitionWanPipeline

    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    pipe, encoder = random_wan(device, dtype, layers, frames, size)
    shared = TransitionWanPipeline.from_pipe(pipe)
    with torch.no_grad():
        texts = encoder(input_ids=torch.randint(0, 1000, (3, 512), device=device)).last_hidden_state
    positive, negative, other = texts[:1], texts[1:2], texts[2:3]
    height, width = size

    def plain(clock: StepClock) -> None:
        pipe(prompt_embeds=positive, negative_prompt_embeds=negative, height=height, width=width, num_frames=frames,
             num_inference_steps=steps, generator=torch.Generator().manual_seed(0), output_type="latent",
             callback_on_step_end=clock)

    def decode() -> None:
        latents = torch.randn(pipe.latent_shape(frames, height, width), device=device)
        pipe.decode_to_uint8(latents)

    keyframes = np.random.default_rng(0).integers(0, 256, (3, height, width, 3), dtype=np.uint8)
    per_frame_embeds = torch.stack([positive[0], other[0], positive[0]])  # keyed prompts' embeddings

    def stand_in_encoder(texts, **kwargs) -> tuple[torch.Tensor, None]:
        """The random UMT5's outputs in place of Wan's prompt encoding (there is no tokenizer to run)."""
        return (per_frame_embeds[:len(texts)] if isinstance(texts, list) else negative), None

    def keyed(clock: StepClock) -> None:
        shared.encode_prompt = stand_in_encoder
        try:
            shared.generate_with_given("a", frames, keyframes, [0, frames // 2, frames - 1],
                                     num_inference_steps=steps, generator=torch.Generator().manual_seed(0),
                                     callback_on_step_end=clock)
        finally:
            del shared.encode_prompt

    def time_varying(clock: StepClock) -> None:
        shared.encode_prompt = stand_in_encoder
        try:
            shared.generate_with_given({0: "a", frames - 1: "b"}, frames, num_inference_steps=steps,
                                     generator=torch.Generator().manual_seed(0), callback_on_step_end=clock)
        finally:
            del shared.encode_prompt

    synchronize(device)
    start = time.perf_counter()
    with torch.no_grad():
        decode()
    synchronize(device)
    decode_seconds = time.perf_counter() - start
    return {"config": {**WAN_1_3B, "num_layers": layers}, "dtype": str(dtype).removeprefix("torch."),
            "frames": frames, "height": height, "width": width, "decode_seconds": round(decode_seconds, 3),
            "plain": measure("wan plain", device, plain),
            "keyframes_first_middle_last": measure("wan keyframes (shared)", device, keyed),
            "time_varying_prompts": measure("wan per-frame prompts", device, time_varying)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--steps", type=int, default=4, help="denoising steps per timed call (default 4)")
    parser.add_argument("--wan-layers", type=int, default=30, help="transformer blocks (30: the 1.3B model)")
    parser.add_argument("--wan-frames", type=int, default=33)
    parser.add_argument("--wan-size", type=int, nargs="+", default=[480, 832], help="height [width]")
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device here (pass --device cpu for a smoke run)")
    size = (args.wan_size[0], args.wan_size[-1])
    out = {"device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
           "torch": torch.__version__, "steps": args.steps,
           "tiny_shapes": tiny_shapes_checks(device, args.steps),
           "wan": wan_checks(device, args.steps, args.wan_layers, args.wan_frames, size)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
