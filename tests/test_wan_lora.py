"""Reward LoRA on Wan: PEFT LoRA in every expert, the editing objective through the seam (a step that
straddles Wan 2.2's expert boundary trains both experts), and LoRA folders that a stock diffusers
``WanPipeline`` loads, checked against merges done by hand. Tiny random Wan components, CPU."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from t2v.pipelines import T2VWanPipeline
from t2v.rewards.config import FinetuneConfig
from t2v.rewards.lora import WAN_LORA_FILES, LoraState, add_wan_lora, wan_experts, wan_lora_states
from t2v.rewards.registry import load_reward
from t2v.rewards.train import FlowEditingObjective, finetune, peak_memory, reward_for, train
from tests.tiny_wan import HEIGHT, MAX_SEQUENCE_LENGTH, NUM_FRAMES, WIDTH, tiny_call_kwargs, tiny_wan_components

PROMPT = "a big red circle moving right on a black background"
TARGETS = ["to_q", "to_k", "to_v", "to_out.0"]
RANK, ALPHA = 4, 8.0
# The tiny transformer: 2 blocks, inner dim 24 (2 heads × 12), ffn dim 32. A rank-r LoRA on a d_in → d_out
# linear has r·(d_in + d_out) parameters.
ATTENTION_LAYER, FFN_LAYERS = RANK * (24 + 24), RANK * (24 + 32) * 2


def wan_pipe(two_experts: bool = True):
    from t2v.pipelines.pipeline_t2v_wan import T2VWanPipeline

    pipe = T2VWanPipeline(**tiny_wan_components(two_experts), native_num_frames=NUM_FRAMES, native_height=HEIGHT,
                          native_width=WIDTH)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def step_config(out: Path | None = None, **overrides) -> FinetuneConfig:
    """4 flow steps, noised to 0.75 (3 left), a graph through all 3: on the tiny scheduler (shift 7) they are
    t ≈ 934 (high-noise expert, boundary 875), 781 and 47 (low-noise expert)."""
    values = dict(output_dir=str(out or "unused"), num_inference_steps=4, noise_fraction=0.75, grad_steps=3,
                  source_steps=1, steps=1, batch_size=1, num_prompts=4, num_validation_prompts=1, validation_every=1,
                  checkpoint_every=1, log_every=1, validation_judge="", learning_rate=1e-3, warmup_steps=1,
                  lora_rank=RANK, lora_alpha=ALPHA)
    values.update(overrides)
    return FinetuneConfig(**values)


def graph_step_experts(pipe, cfg: FinetuneConfig) -> list[str]:
    """Which expert denoises each step that keeps a graph."""
    from t2v.pipelines.wan_model_call import expert_for

    pipe.scheduler.set_timesteps(cfg.num_inference_steps)
    low = [expert_for(pipe, t)[1] for t in pipe.scheduler.timesteps[-cfg.grad_steps:]]
    return ["transformer_2" if is_low else "transformer" for is_low in low]


def lora_b_grads(model) -> list[torch.Tensor | None]:
    return [p.grad for n, p in model.named_parameters() if "lora_B" in n]


def expert_output(model, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    sample = torch.randn(1, 16, 3, HEIGHT // 8, WIDTH // 8, generator=gen)
    text = torch.randn(1, MAX_SEQUENCE_LENGTH, 32, generator=gen)
    with torch.no_grad():
        return model(sample, torch.tensor([600.0]), text, return_dict=False)[0]


def merged_by_hand(seed: int, saved: dict[str, torch.Tensor]):
    """The base expert with W + (alpha / rank)·B·A added from the saved tensors; how many layers were merged."""
    from tests.tiny_wan import tiny_transformer

    model = tiny_transformer(seed)
    merged = 0
    for name, module in model.named_modules():
        down = saved.get(f"transformer.{name}.lora_A.weight")
        if down is not None:
            module.weight.data += (ALPHA / RANK) * saved[f"transformer.{name}.lora_B.weight"] @ down
            merged += 1
    return model, merged


@pytest.mark.parametrize("blocks,per_expert", [
    ("spatial+temporal", 2 * 8 * ATTENTION_LAYER),  # the default: every attention (Wan's is spatio-temporal)
    ("cross", 2 * 4 * ATTENTION_LAYER),
    ("self+cross+ffn", 2 * (8 * ATTENTION_LAYER + FFN_LAYERS)),
])
def test_lora_goes_into_both_experts_and_only_it_trains(blocks, per_expert):
    pipe = wan_pipe()
    params = add_wan_lora(pipe, rank=RANK, alpha=ALPHA, targets=TARGETS, blocks=blocks)
    assert list(wan_experts(pipe)) == ["transformer", "transformer_2"]
    for model in wan_experts(pipe).values():
        trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        assert trainable and all("lora_" in n for n, _ in trainable)
        assert sum(p.numel() for _, p in trainable) == per_expert
        assert all(p.dtype == torch.float32 for _, p in trainable)
    assert sum(p.numel() for p in params) == 2 * per_expert
    assert len({id(p) for p in params}) == len(params)


def test_lora_blocks_values_name_the_field():
    assert FinetuneConfig(lora_blocks="self+ffn").lora_blocks == "self+ffn"
    for bad in ("self+self", "self+spatial", "mlp"):
        with pytest.raises(ValueError, match="lora_blocks"):
            FinetuneConfig(lora_blocks=bad)
    with pytest.raises(ValueError, match="lora_blocks"):  # AnimateDiff's spatial alone has no Wan meaning
        add_wan_lora(wan_pipe(), rank=RANK, alpha=ALPHA, targets=TARGETS, blocks="spatial")


def test_a_step_straddling_the_expert_boundary_trains_both_experts():
    pipe = wan_pipe()
    cfg = step_config()
    assert graph_step_experts(pipe, cfg) == ["transformer", "transformer_2", "transformer_2"]
    params = add_wan_lora(pipe, rank=RANK, alpha=ALPHA, targets=TARGETS, blocks=cfg.lora_blocks)
    reward = load_reward("shapes-alignment")
    objective = FlowEditingObjective(pipe, reward, cfg, guidance=5.0, max_sequence_length=MAX_SEQUENCE_LENGTH)
    assert objective.latent_shape(1) == (1, 16, (NUM_FRAMES - 1) // 4 + 1, HEIGHT // 8, WIDTH // 8)
    loss, per_video = objective.loss([PROMPT], torch.Generator().manual_seed(0))
    assert torch.isfinite(loss) and per_video.shape == (1,)
    loss.backward()
    for name, model in wan_experts(pipe).items():
        grads = lora_b_grads(model)
        assert all(g is not None and g.abs().sum() > 0 for g in grads), f"no gradient reached {name}'s LoRA"
    before = {name: [p.detach().clone() for n, p in m.named_parameters() if "lora_B" in n]
              for name, m in wan_experts(pipe).items()}
    torch.optim.AdamW(params, lr=1e-3).step()
    for name, model in wan_experts(pipe).items():
        after = [p for n, p in model.named_parameters() if "lora_B" in n]
        assert all((a - b).abs().max() > 0 for a, b in zip(after, before[name], strict=True)), name

    # a cut after the boundary: the graph holds the low-noise expert only, so only its LoRA learns
    for p in params:
        p.grad = None
    late = replace(cfg, grad_steps=1)
    assert graph_step_experts(pipe, late) == ["transformer_2"]
    FlowEditingObjective(pipe, reward, late, 5.0, MAX_SEQUENCE_LENGTH).loss([PROMPT], torch.Generator())[0].backward()
    assert all(g is None for g in lora_b_grads(pipe.transformer))
    assert all(g is not None for g in lora_b_grads(pipe.transformer_2))


def test_data_clips_are_encoded_and_edited():
    """video_source=data on Wan: clips at the model's 4k+1 frames and size go through the VAE encoder and the
    seam's normalisation; other shapes are refused naming data_file."""
    pipe = wan_pipe(two_experts=False)
    cfg = step_config(grad_steps=1)
    add_wan_lora(pipe, rank=RANK, alpha=ALPHA, targets=TARGETS, blocks=cfg.lora_blocks)
    objective = FlowEditingObjective(pipe, load_reward("shapes-alignment"), cfg, 5.0, MAX_SEQUENCE_LENGTH)
    clips = np.random.default_rng(0).integers(0, 256, (1, NUM_FRAMES, HEIGHT, WIDTH, 3), dtype=np.uint8)
    assert objective.encode_clips(clips).shape == objective.latent_shape(1)
    loss, _ = objective.loss([PROMPT], torch.Generator().manual_seed(0), clips)
    loss.backward()
    assert torch.isfinite(loss) and all(g is not None for g in lora_b_grads(pipe.transformer))
    with pytest.raises(ValueError, match="data_file"):
        objective.loss([PROMPT], torch.Generator(), clips[:, :8])


def test_step_memory_grows_with_the_graph_steps_only():
    """Measured, not assumed: each step kept with a graph adds its activations; the whole-clip decode is paid
    at any j. The figures go to the objective's docstring (run with -s to see them)."""
    pipe = wan_pipe()
    cfg = step_config()
    add_wan_lora(pipe, rank=RANK, alpha=ALPHA, targets=TARGETS, blocks=cfg.lora_blocks)
    reward = load_reward("shapes-alignment")
    figures = {}
    for j in (1, 3):
        objective = FlowEditingObjective(pipe, reward, replace(cfg, grad_steps=j), 5.0, MAX_SEQUENCE_LENGTH)

        def step(objective=objective):
            loss, _ = objective.loss([PROMPT], torch.Generator().manual_seed(0))
            loss.backward()

        figures[j] = peak_memory(step)[1]["cpu"]
    print(f"peak tensor memory of one tiny two-expert Wan step: j=1 {figures[1]:.2f} MiB, j=3 {figures[3]:.2f} MiB")
    assert 0 < figures[1] < figures[3]


@pytest.fixture(scope="module")
def trained_two_experts(tmp_path_factory):
    pipe = wan_pipe()
    out = tmp_path_factory.mktemp("wan-finetune") / "run"
    lora = finetune(pipe, step_config(out))
    return pipe, out, lora


def test_stock_wan_pipeline_loads_the_two_expert_lora(trained_two_experts):
    """After a training step, stock diffusers (two ``load_lora_weights`` calls, as the folder's README says)
    gives each expert W + (alpha / rank)·B·A, the trained experts' outputs and the same 2-step video."""
    from diffusers import WanPipeline

    from tests.tiny_wan import tiny_transformer

    pipe, out, lora = trained_two_experts
    assert sorted(p.name for p in lora.iterdir()) == ["README.md", *sorted(WAN_LORA_FILES.values())]
    assert "load_into_transformer_2=True" in (lora / "README.md").read_text()
    stock = WanPipeline(**tiny_wan_components(two_experts=True))
    stock.set_progress_bar_config(disable=True)
    stock.load_lora_weights(str(lora), adapter_name="reward")
    stock.load_lora_weights(str(lora), weight_name=WAN_LORA_FILES["transformer_2"], adapter_name="reward",
                            load_into_transformer_2=True)
    for seed, name in enumerate(("transformer", "transformer_2")):
        saved = load_file(str(lora / WAN_LORA_FILES[name]))
        assert any(v.abs().sum() > 0 for k, v in saved.items() if "lora_B" in k), f"{name}'s LoRA did not train"
        by_hand, merged = merged_by_hand(seed, saved)
        assert merged == 16  # 2 blocks × 2 attentions × 4 projections
        expected = expert_output(by_hand)
        assert torch.allclose(expert_output(getattr(stock, name)), expected, atol=1e-5)
        assert torch.allclose(expert_output(getattr(pipe, name)), expected, atol=1e-5)
        assert not torch.allclose(expert_output(tiny_transformer(seed)), expected, atol=1e-6)
    kwargs = tiny_call_kwargs(output_type="np")
    trained_video = pipe(PROMPT, **tiny_call_kwargs(output_type="np")).frames
    assert np.allclose(stock(PROMPT, **kwargs).frames, trained_video, atol=1e-5)


def test_the_two_expert_checkpoint_restores_both_loras(trained_two_experts):
    from t2v.training.checkpoint import load_state

    pipe, out, _ = trained_two_experts
    fresh = wan_pipe()
    add_wan_lora(fresh, rank=RANK, alpha=ALPHA, targets=TARGETS, blocks="spatial+temporal", seed=7)
    load_state(out / "checkpoint", models=wan_lora_states(fresh), optimizer=None)
    for name in ("transformer", "transformer_2"):
        a, b = LoraState(getattr(fresh, name)).state_dict(), LoraState(getattr(pipe, name)).state_dict()
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_train_on_a_wan21_folder_round_trips_through_stock_diffusers(tmp_path):
    """``train(cfg)`` with ``cfg.model`` a Wan 2.1 folder: one LoRA file, which one stock
    ``load_lora_weights`` call loads, equal to the merge by hand."""
    from diffusers import WanPipeline

    from tests.tiny_wan import tiny_transformer

    folder = tmp_path / "wan21"
    wan_pipe(two_experts=False).save_pretrained(folder)
    lora = train(step_config(tmp_path / "run", model=str(folder), grad_steps=1, gradient_checkpointing=True))
    assert sorted(p.name for p in lora.iterdir()) == ["README.md", WAN_LORA_FILES["transformer"]]
    saved = load_file(str(lora / WAN_LORA_FILES["transformer"]))
    stock = WanPipeline(**tiny_wan_components(two_experts=False))
    stock.load_lora_weights(str(lora))
    by_hand, merged = merged_by_hand(0, saved)
    assert merged == 16
    expected = expert_output(by_hand)
    assert torch.allclose(expert_output(stock.transformer), expected, atol=1e-5)
    assert not torch.allclose(expert_output(tiny_transformer(0)), expected, atol=1e-6)


def test_load_pipeline_puts_each_experts_own_lora_into_it(trained_two_experts, tmp_path):
    """``load_pipeline(folder, lora=...)`` (and so ``--lora``) loads the low-noise expert's own file into
    ``transformer_2``, not the high-noise expert's."""
    from t2v.models import load_pipeline

    pipe, _, lora = trained_two_experts
    folder = tmp_path / "two-experts"
    wan_pipe().save_pretrained(folder)
    loaded = load_pipeline(str(folder), lora=str(lora))
    for name in ("transformer", "transformer_2"):
        assert torch.allclose(expert_output(getattr(loaded, name)), expert_output(getattr(pipe, name)), atol=1e-5)


def test_the_objective_reads_prompts_at_the_pipelines_own_text_length():
    """Wan's text encoding pads with zeros that attention sees: training must encode as sampling does."""
    from tests.tiny_wan import tiny_wan_pipeline

    pipe = tiny_wan_pipeline(T2VWanPipeline)
    objective = FlowEditingObjective(pipe, reward_for(step_config()), step_config(), guidance=5.0)
    assert objective.max_sequence_length == pipe.max_sequence_length == MAX_SEQUENCE_LENGTH


def test_a_video_reward_adds_its_weighted_score_and_x0_is_refused(tmp_path):
    """On Wan the whole decoded clip goes to the video reward: at weight 0 the loss is the per-frame one exactly,
    at weight 2 it moves; the one-jump objective is AnimateDiff's only and is refused by name."""
    pipe = wan_pipe(two_experts=False)
    cfg = step_config(grad_steps=1)
    add_wan_lora(pipe, rank=RANK, alpha=ALPHA, targets=TARGETS, blocks=cfg.lora_blocks)
    reward, motion = load_reward("shapes-alignment"), load_reward("shapes-motion")

    def loss(config, video_reward=None) -> torch.Tensor:
        objective = FlowEditingObjective(pipe, reward, config, 5.0, MAX_SEQUENCE_LENGTH, video_reward=video_reward)
        with torch.no_grad():
            return objective.loss([PROMPT], torch.Generator().manual_seed(0))[0]

    plain = loss(cfg)
    assert torch.equal(loss(replace(cfg, video_reward="shapes-motion", video_reward_weight=0.0), motion), plain)
    assert not torch.allclose(loss(replace(cfg, video_reward="shapes-motion", video_reward_weight=2.0), motion), plain)
    with pytest.raises(ValueError, match="objective 'x0' is for AnimateDiff"):
        finetune(wan_pipe(two_experts=False), step_config(tmp_path / "run", objective="x0"))
