import numpy as np
import pytest
import torch

from t2v.generation import generate, model_defaults
from t2v.models import load_pipeline
from t2v.pipelines import T2VAnimateDiffPipeline
from t2v.training.common import encode_text
from tests.tiny_models import build_sd_base_and_adapter


def test_tiny_format_loads_as_an_animatediff_pipeline(tiny_model_dir):
    from diffusers import AnimateDiffPipeline, UNetMotionModel

    pipe = load_pipeline(str(tiny_model_dir))
    assert type(pipe) is T2VAnimateDiffPipeline and isinstance(pipe, AnimateDiffPipeline)
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
    assert isinstance(pipe, AnimateDiffPipeline) and isinstance(pipe.unet, UNetMotionModel)
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


def native_settings(pipe) -> tuple:
    return pipe.config.native_num_frames, pipe.config.native_fps, pipe.config.native_guidance_scale


def test_native_settings_survive_from_pipe_and_save_reload(tiny_model_dir, tmp_path):
    """The card of the 'test' preset says 4 frames at 8 fps; the loader adds tiny-shapes' guidance 4."""
    pipe = load_pipeline(str(tiny_model_dir))
    assert native_settings(pipe) == (4, 8, 4.0)
    assert pipe("a red ball", num_inference_steps=1, output_type="np").frames.shape[1] == 4  # not diffusers' 16

    class SubclassPipeline(T2VAnimateDiffPipeline):  # as the multi-scene and editing pipelines are
        pass

    moved = SubclassPipeline.from_pipe(pipe)
    assert native_settings(moved) == (4, 8, 4.0)
    moved.save_pretrained(tmp_path / "saved")
    assert '"native_num_frames": 4' in (tmp_path / "saved" / "model_index.json").read_text()
    reloaded = T2VAnimateDiffPipeline.from_pretrained(tmp_path / "saved")
    assert native_settings(reloaded) == (4, 8, 4.0)
    assert model_defaults(reloaded) == {"size": 32, "height": 32, "width": 32, "frames": 4, "fps": 8, "guidance": 4.0}


def test_a_stock_pipeline_keeps_only_the_size(tiny_model_dir):
    """diffusers' own class has no such settings: from_pipe keeps the frame size, not the native frames."""
    from diffusers import AnimateDiffPipeline

    stock = AnimateDiffPipeline.from_pipe(load_pipeline(str(tiny_model_dir)))
    assert model_defaults(stock) == {"size": 32, "height": 32, "width": 32, "frames": 16, "fps": 8,
                                    "guidance": 7.5}
    back = T2VAnimateDiffPipeline.from_pipe(stock)  # diffusers kept them as private config: they come back
    assert native_settings(back) == (4, 8, 4.0)


@pytest.mark.parametrize("bad", [0, -2, 2.5, True])
def test_native_settings_are_validated(tiny_model_dir, bad):
    pipe = load_pipeline(str(tiny_model_dir))
    with pytest.raises(ValueError, match="native_num_frames"):
        T2VAnimateDiffPipeline.from_pipe(pipe, native_num_frames=bad)


def test_dtype_loads_half_precision_weights(tiny_model_dir):
    pipe = load_pipeline(str(tiny_model_dir), dtype=torch.float16)
    assert pipe.unet.dtype == torch.float16 and pipe.vae.dtype == torch.float16
    assert {p.dtype for p in pipe.unet.parameters()} == {torch.float16}
