"""The shipped tiny-shapes weights: they load offline and generate what the prompt asks."""

import pytest

from t2v.generation import generate
from t2v.models import load_pipeline, model_card, tiny_shapes_path
from t2v.training.tiny_shapes.steering import directional_specs, measure_steering
from t2v.world.facts import ObjectRef, Question
from t2v.world.oracle import ShapesOracle


@pytest.fixture(scope="module")
def shipped():
    return load_pipeline("tiny-shapes")


def test_shipped_weights_are_small_safetensors():
    files = [p for p in tiny_shapes_path().rglob("*") if p.is_file()]
    weights = [p for p in files if p.suffix in (".safetensors", ".bin", ".pt", ".pth", ".ckpt")]
    assert weights and all(p.suffix == ".safetensors" for p in weights)
    assert sum(p.stat().st_size for p in files) <= 30 * 2**20
    card = model_card(tiny_shapes_path())
    assert card["size"] >= 32 and card["frames"] >= 8


@pytest.mark.parametrize(("prompt", "shape", "color", "background"), [
    ("a big red square on a black background", "square", "red", "black"),
    ("a big blue triangle on a white background", "triangle", "blue", "white"),
])
def test_generated_video_has_the_prompts_colour(shipped, prompt, shape, color, background):
    frames, _ = generate(shipped, prompt, seed=0, num_inference_steps=12)
    assert frames.shape[1:] == (model_card(tiny_shapes_path())["size"],) * 2 + (3,)
    oracle = ShapesOracle()
    reading = oracle.analyse(frames)
    is_color = oracle.answer(reading, Question("existence", ObjectRef(color=color)))
    is_background = oracle.answer(reading, Question("background", value=background))
    assert is_color.yes, reading.to_dict()
    assert is_background.yes, reading.to_dict()


def test_direction_words_steer_the_shipped_model(shipped):
    """Before the direction warm-up, the shipped "up"/"down" and "left"/"right" steered nothing (steer 0, README)."""
    card = model_card(tiny_shapes_path())
    specs = directional_specs(6, seed=5, frames=card["frames"], size=card["size"])
    report = measure_steering(shipped, specs, timesteps=(990,))
    assert report["t=990"]["steer"] > 0.3, report
