import numpy as np
import pytest
import torch

from t2v.generation import generate
from t2v.models import load_pipeline
from t2v.world.train import encode_text
from tests.tiny_models import build_sd_base_and_adapter


def test_tiny_format_loads_as_stock_animatediff(tiny_model_dir):
    from diffusers import AnimateDiffPipeline, UNetMotionModel

    pipe = load_pipeline(str(tiny_model_dir))
    assert type(pipe) is AnimateDiffPipeline
    assert isinstance(pipe.unet, UNetMotionModel)
    assert pipe.text_encoder.config.use_attention_mask
    assert pipe.tokenizer.model_max_length == 32


def test_generation_is_seeded_and_native_sized(tiny_model_dir):
    pipe = load_pipeline(str(tiny_model_dir))
    a, fps = generate(pipe, "a big red ball bouncing", seed=3, num_inference_steps=2)
    b, _ = generate(pipe, "a big red ball bouncing", seed=3, num_inference_steps=2)
    c, _ = generate(pipe, "a big red ball bouncing", seed=4, num_inference_steps=2)
    assert a.dtype == np.uint8 and a.shape == (4, 32, 32, 3)
    assert fps == 8
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_training_text_encoding_matches_the_pipeline(tiny_model_dir):
    """Training caches prompt embeddings; they must equal what sampling computes, padding included."""
    pipe = load_pipeline(str(tiny_model_dir))
    texts = ["a red ball", "a small green square moving up on a black background", ""]
    cached = encode_text(pipe.tokenizer, pipe.text_encoder, texts)
    for i, text in enumerate(texts):
        embeds, _ = pipe.encode_prompt(text, torch.device("cpu"), 1, False)
        torch.testing.assert_close(cached[i : i + 1], embeds)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"num_frames": 0}, "num_frames"), ({"size": 12}, "size"), ({"num_inference_steps": 0}, "num_inference_steps")],
)
def test_generation_rejects_bad_arguments(tiny_model_dir, kwargs, message):
    pipe = load_pipeline(str(tiny_model_dir))
    with pytest.raises(ValueError, match=message):
        generate(pipe, "a red ball", **kwargs)


def test_empty_prompt_is_rejected(tiny_model_dir):
    pipe = load_pipeline(str(tiny_model_dir))
    with pytest.raises(ValueError, match="prompt"):
        generate(pipe, "   ")


def test_real_animatediff_base_plus_adapter_loads_and_runs(tmp_path):
    from diffusers import AnimateDiffPipeline, UNetMotionModel

    base, adapter = build_sd_base_and_adapter(tmp_path)
    pipe = load_pipeline(str(base), motion_adapter=str(adapter), dtype=torch.float32)
    assert type(pipe) is AnimateDiffPipeline and isinstance(pipe.unet, UNetMotionModel)
    frames, _ = generate(pipe, "a cat", num_frames=3, size=16, num_inference_steps=2, seed=0)
    assert frames.shape == (3, 16, 16, 3)


def test_missing_models_give_clear_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(FileNotFoundError, match="neither"):
        load_pipeline(str(tmp_path / "nope"))
    with pytest.raises(FileNotFoundError, match="could not be loaded"):
        load_pipeline("someone/not-a-cached-model")
    with pytest.raises(ValueError, match="model"):
        load_pipeline("")
