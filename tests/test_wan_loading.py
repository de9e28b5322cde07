"""Loading Wan 2.1 / 2.2 folders of every layout by name, their capabilities, and ``t2v models``.

Each layout is built from tiny random components of the real classes (tests/tiny_wan.py), saved with
``save_pretrained`` (safetensors) and loaded back through ``load_pipeline``, so the detection from
``model_index.json`` and the component configs runs on the files diffusers itself writes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from t2v.cli import main
from t2v.models import load_pipeline
from t2v.models.capabilities import capabilities, model_capabilities
from tests import tiny_wan

LAYOUTS = ("t2v", "a14b", "ti2v", "i2v", "flf2v", "i2v-a14b", "vace")


def _build(layout: str):
    from diffusers import WanImageToVideoPipeline, WanPipeline, WanVACEPipeline

    if layout in ("t2v", "a14b"):
        return WanPipeline(**tiny_wan.tiny_wan_components(two_experts=layout == "a14b"))
    if layout == "ti2v":
        return WanPipeline(**tiny_wan.tiny_ti2v_components())
    if layout == "vace":
        return WanVACEPipeline(**tiny_wan.tiny_vace_components())
    return WanImageToVideoPipeline(**tiny_wan.tiny_i2v_components(first_last=layout == "flf2v",
                                                                  two_experts=layout == "i2v-a14b"))


def _as_published(folder: Path) -> None:
    """Name the image processor as the Wan 2.1 I2V releases do (``CLIPImageProcessor``, which needs torchvision
    in transformers 5 and falls back to the PIL processor without it)."""
    index_path = folder / "model_index.json"
    index = json.loads(index_path.read_text())
    if index.get("image_processor", [None, None])[1] is not None:
        index["image_processor"] = ["transformers", "CLIPImageProcessor"]
        index_path.write_text(json.dumps(index, indent=2))


@pytest.fixture(scope="module")
def wan_dirs(tmp_path_factory) -> dict[str, Path]:
    """Every layout saved as a diffusers folder."""
    root = tmp_path_factory.mktemp("wan")
    folders = {}
    for layout in LAYOUTS:
        _build(layout).save_pretrained(root / layout)
        _as_published(root / layout)
        folders[layout] = root / layout
    return folders


def _copy(folder: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(folder, tmp_path / folder.name))


def _edit_index(folder: Path, **changes) -> None:
    path = folder / "model_index.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))


def _image(color: tuple[int, int, int], size: int = tiny_wan.HEIGHT) -> Image.Image:
    return Image.new("RGB", (size, size), color)


def _run(pipe, layout: str, seed: int = 0) -> np.ndarray:
    """A 2-step 9-frame generation (16x16; 32x32 on the TI2V layout, whose size multiple is 32)."""
    size = tiny_wan.TI2V_SIZE if layout == "ti2v" else tiny_wan.HEIGHT
    kwargs = tiny_wan.tiny_call_kwargs(seed, height=size, width=size, output_type="np")
    if layout in ("i2v", "i2v-a14b"):
        kwargs["image"] = _image((200, 30, 30))
    if layout == "flf2v":
        kwargs.update(image=_image((200, 30, 30)), last_image=_image((30, 30, 200)))
    return pipe(prompt="a red ball rolls", **kwargs).frames


EXPECTED_CLASS = {"t2v": "T2VWanPipeline", "a14b": "T2VWanPipeline", "ti2v": "T2VWanPipeline",
                  "i2v": "WanImageToVideoPipeline", "flf2v": "WanImageToVideoPipeline",
                  "i2v-a14b": "WanImageToVideoPipeline", "vace": "WanVACEPipeline"}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_each_layout_loads_as_its_pipeline_and_generates_what_the_built_one_does(wan_dirs, layout):
    pipe = load_pipeline(str(wan_dirs[layout]))
    assert type(pipe).__name__ == EXPECTED_CLASS[layout]
    assert (pipe.transformer_2 is not None) == layout.endswith("a14b")
    assert bool(pipe.config.get("expand_timesteps")) == (layout == "ti2v")
    frames = _run(pipe, layout)
    size = tiny_wan.TI2V_SIZE if layout == "ti2v" else tiny_wan.HEIGHT
    assert frames.shape == (1, tiny_wan.NUM_FRAMES, size, size, 3)
    built = _build(layout)  # the same seeds: loading must give back the very same weights and settings
    built.set_progress_bar_config(disable=True)
    np.testing.assert_allclose(frames, _run(built, layout), atol=1e-5)


def test_published_clip_processor_name_loads_without_torchvision(wan_dirs):
    assert json.loads((wan_dirs["i2v"] / "model_index.json").read_text())["image_processor"][1] == \
        "CLIPImageProcessor"
    pipe = load_pipeline(str(wan_dirs["i2v"]))
    pixels = pipe.image_processor(images=_image((1, 2, 3)), return_tensors="pt").pixel_values
    assert pixels.shape == (1, 3, tiny_wan.CLIP_IMAGE_SIZE, tiny_wan.CLIP_IMAGE_SIZE)


def test_ti2v_gets_its_native_settings(wan_dirs):
    pipe = load_pipeline(str(wan_dirs["ti2v"]))
    assert (pipe.default_num_frames, pipe.default_fps, pipe.native_frame_size) == (121, 24, (704, 1280))
    assert pipe.size_multiple == 32  # the 2.2 VAE's 16x times the 2x2 patch
    with pytest.raises(ValueError, match="height must be a positive multiple of 32"):
        pipe("a cat", height=16, width=32, num_frames=9, num_inference_steps=1)


def test_a_per_component_dtype_dict_takes_effect(wan_dirs):
    pipe = load_pipeline(str(wan_dirs["a14b"]), dtype={"transformer": torch.bfloat16, "default": torch.bfloat16,
                                                       "vae": torch.float32})
    assert pipe.transformer.dtype == torch.bfloat16 and pipe.text_encoder.dtype == torch.bfloat16
    assert pipe.transformer_2.dtype == torch.bfloat16  # from "default"
    assert pipe.vae.dtype == torch.float32
    assert np.isfinite(_run(pipe, "a14b")).all()  # mixed dtypes run through the whole loop and the decode
    i2v = load_pipeline(str(wan_dirs["i2v"]), dtype={"default": torch.bfloat16, "image_encoder": torch.float32})
    assert i2v.image_encoder.dtype == torch.float32 and i2v.transformer.dtype == torch.bfloat16
    one = load_pipeline(str(wan_dirs["t2v"]), dtype=torch.bfloat16)
    assert one.transformer.dtype == one.vae.dtype == torch.bfloat16


@pytest.mark.parametrize(("dtype", "message"), [({"unet": torch.float16}, "'unet'.*transformer"),
                                                ({"vae": "fp16"}, r"dtype\['vae'\]"), ("fp16", "dtype must be")])
def test_bad_dtypes_are_refused_naming_the_argument(wan_dirs, dtype, message):
    with pytest.raises(ValueError, match=message):
        load_pipeline(str(wan_dirs["t2v"]), dtype=dtype)


def test_a_dtype_dict_on_tiny_shapes_is_refused(tiny_model_dir):
    with pytest.raises(ValueError, match="one torch dtype"):
        load_pipeline(str(tiny_model_dir), dtype={"unet": torch.float16})


def test_missing_models_give_clear_errors(wan_dirs, tmp_path, monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)  # read at import: the env is too late
    with pytest.raises(FileNotFoundError, match="neither"):
        load_pipeline(str(tmp_path / "no-such-wan"))
    with pytest.raises(FileNotFoundError, match="'someone/not-a-cached-wan' could not be loaded"):
        load_pipeline("someone/not-a-cached-wan")
    folder = _copy(wan_dirs["a14b"], tmp_path)
    for weights in (folder / "transformer_2").glob("*.safetensors"):
        weights.unlink()
    with pytest.raises(FileNotFoundError, match=f"model '{folder}' could not be loaded"):
        load_pipeline(str(folder))


def test_a_cached_hub_id_loads_offline(wan_dirs, tmp_path, monkeypatch):
    import huggingface_hub.constants

    commit = "0" * 40
    repo = tmp_path / "models--someone--tiny-wan"
    shutil.copytree(wan_dirs["a14b"], repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    pipe = load_pipeline("someone/tiny-wan")
    assert type(pipe).__name__ == "T2VWanPipeline" and pipe.transformer_2 is not None
    assert model_capabilities("someone/tiny-wan")["layout"] == "wan2.2-t2v-a14b"


def test_an_i2v_model_without_its_image_encoder_is_a_clear_error(wan_dirs, tmp_path):
    folder = _copy(wan_dirs["i2v"], tmp_path)
    shutil.rmtree(folder / "image_encoder")
    with pytest.raises(ValueError, match="image_dim=8.*no image_encoder files"):
        load_pipeline(str(folder))
    _edit_index(folder, image_encoder=[None, None], image_processor=[None, None])  # as if saved without them
    with pytest.raises(ValueError, match="no image_encoder and image_processor"):
        load_pipeline(str(folder))
    with pytest.raises(ValueError, match="image_encoder"):
        model_capabilities(str(folder))


def test_a_transformer_that_does_not_fit_the_pipeline_class_is_refused(wan_dirs, tmp_path):
    folder = _copy(wan_dirs["i2v-a14b"], tmp_path)
    _edit_index(folder, _class_name="WanPipeline")  # an I2V transformer (36 channels) named as T2V
    with pytest.raises(ValueError, match="36 input channels, an image-to-video transformer.*feeds it 16"):
        load_pipeline(str(folder))


def test_wan_refuses_a_motion_adapter_and_takes_dispatcher_attention_backends(wan_dirs):
    # xformers on Wan is diffusers' dispatcher backend: set when it runs, else a warning and SDPA
    # (tests/test_attention_backends.py checks the fallback)
    assert type(load_pipeline(str(wan_dirs["t2v"]), attention="xformers")).__name__ == "T2VWanPipeline"
    with pytest.raises(ValueError, match="motion_adapter"):
        load_pipeline(str(wan_dirs["t2v"]), motion_adapter="some/adapter")
    assert type(load_pipeline(str(wan_dirs["t2v"]), attention="sdpa")).__name__ == "T2VWanPipeline"


def _save_random_lora(folder: Path, seed: int = 0) -> Path:
    """LoRA weights for the tiny Wan transformer, saved the way diffusers saves them."""
    from diffusers import WanPipeline
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    transformer = tiny_wan.tiny_transformer(seed)
    transformer.add_adapter(LoraConfig(r=4, lora_alpha=4, target_modules=["to_q", "to_k", "to_v", "to_out.0"],
                                       init_lora_weights=False))  # random A and B: the LoRA acts
    WanPipeline.save_lora_weights(folder, transformer_lora_layers=get_peft_model_state_dict(transformer))
    return folder


def test_a_lora_goes_into_both_experts(wan_dirs, tmp_path):
    lora = _save_random_lora(tmp_path / "lora")
    base = _run(load_pipeline(str(wan_dirs["a14b"])), "a14b")
    pipe = load_pipeline(str(wan_dirs["a14b"]), lora=str(lora))
    assert "t2v" in pipe.transformer.peft_config and "t2v" in pipe.transformer_2.peft_config
    assert np.abs(_run(pipe, "a14b") - base).max() > 1e-3
    off = load_pipeline(str(wan_dirs["a14b"]), lora=str(lora), lora_scale=0.0)
    np.testing.assert_allclose(_run(off, "a14b"), base, atol=1e-5)
    one = load_pipeline(str(wan_dirs["t2v"]), lora=str(lora))  # one transformer: it alone takes the LoRA
    assert "t2v" in one.transformer.peft_config and one.transformer_2 is None


# Hand-written from each layout's configs (tests/tiny_wan.py).
EXPECTED_CAPABILITIES = {
    "t2v": dict(layout="wan2.1-t2v", text_to_video=True, first_frame=False, clip_image_encoder=False,
                native_first_last_frame=False, keyframes_any_index=False, reference_images=False, two_experts=False,
                lora_targets=["transformer"], size_multiple=16, latent_channels=16),
    "a14b": dict(layout="wan2.2-t2v-a14b", text_to_video=True, first_frame=False, clip_image_encoder=False,
                 native_first_last_frame=False, keyframes_any_index=False, reference_images=False, two_experts=True,
                 lora_targets=["transformer", "transformer_2"], size_multiple=16, latent_channels=16),
    "ti2v": dict(layout="wan2.2-ti2v", text_to_video=True, first_frame=True, clip_image_encoder=False,
                 native_first_last_frame=False, keyframes_any_index=False, reference_images=False, two_experts=False,
                 lora_targets=["transformer"], size_multiple=32, latent_channels=48),
    "i2v": dict(layout="wan2.1-i2v", text_to_video=False, first_frame=True, clip_image_encoder=True,
                native_first_last_frame=False, keyframes_any_index=False, reference_images=False, two_experts=False,
                lora_targets=["transformer"], size_multiple=16, latent_channels=16),
    "flf2v": dict(layout="wan2.1-flf2v", text_to_video=False, first_frame=True, clip_image_encoder=True,
                  native_first_last_frame=True, keyframes_any_index=False, reference_images=False, two_experts=False,
                  lora_targets=["transformer"], size_multiple=16, latent_channels=16),
    "i2v-a14b": dict(layout="wan2.2-i2v-a14b", text_to_video=False, first_frame=True, clip_image_encoder=False,
                     native_first_last_frame=False, keyframes_any_index=False, reference_images=False,
                     two_experts=True, lora_targets=["transformer", "transformer_2"], size_multiple=16,
                     latent_channels=16),
    "vace": dict(layout="wan2.1-vace", text_to_video=True, first_frame=True, clip_image_encoder=False,
                 native_first_last_frame=False, keyframes_any_index=True, reference_images=True, two_experts=False,
                 lora_targets=["transformer"], size_multiple=16, latent_channels=16),
}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_capabilities_follow_the_config(wan_dirs, layout):
    from_files = model_capabilities(str(wan_dirs[layout]))
    loaded = capabilities(load_pipeline(str(wan_dirs[layout])))
    assert from_files == loaded  # the configs alone tell what loading would
    assert {key: loaded[key] for key in EXPECTED_CAPABILITIES[layout]} == EXPECTED_CAPABILITIES[layout]
    assert loaded["backbone"] == "wan" and loaded["frame_rule"] == "4k+1" and loaded["pipeline"] == \
        EXPECTED_CLASS[layout]
    assert loaded["native"]["fps"] == (24 if layout == "ti2v" else 16)


def test_capabilities_read_a_t2v_folder_s_own_native_settings(wan_dirs, tmp_path):
    from t2v.pipelines.pipeline_t2v_wan import T2VWanPipeline

    pipe = load_pipeline(str(wan_dirs["t2v"]))
    T2VWanPipeline.from_pipe(pipe, native_fps=12, native_num_frames=17).save_pretrained(tmp_path / "own")
    caps = model_capabilities(str(tmp_path / "own"))
    assert (caps["native"]["fps"], caps["native"]["num_frames"]) == (12, 17)
    assert capabilities(load_pipeline(str(tmp_path / "own"))) == caps


def test_a_folder_saved_by_a_t2v_wan_subclass_loads_as_t2v(wan_dirs, tmp_path):
    from t2v.pipelines.pipeline_t2v_wan import T2VWanPipeline

    class StoryWanPipeline(T2VWanPipeline):  # as t2v's transition and multi-scene Wan pipelines are
        pass

    StoryWanPipeline.from_pipe(load_pipeline(str(wan_dirs["a14b"]))).save_pretrained(tmp_path / "story")
    assert json.loads((tmp_path / "story" / "model_index.json").read_text())["_class_name"] == "StoryWanPipeline"
    pipe = load_pipeline(str(tmp_path / "story"))
    assert type(pipe) is T2VWanPipeline and pipe.transformer_2 is not None
    assert model_capabilities(str(tmp_path / "story"))["layout"] == "wan2.2-t2v-a14b"


def test_capabilities_of_tiny_shapes_and_animatediff(tiny_model_dir):
    caps = model_capabilities(str(tiny_model_dir))
    assert capabilities(load_pipeline(str(tiny_model_dir))) == caps
    assert caps["backbone"] == "animatediff" and caps["lora_targets"] == ["unet"]
    # the motion modules embed 32 frames (tiny-shapes' architecture); the 'test' card's native length is 4
    assert (caps["frame_rule"], caps["max_frames"], caps["size_multiple"]) == ("1 to 32", 32, 8)
    assert caps["native"] == {"num_frames": 4, "fps": 8, "height": 32, "width": 32}
    assert not (caps["first_frame"] or caps["native_first_last_frame"] or caps["keyframes_any_index"])
    assert model_capabilities()["native"] == {"num_frames": 8, "fps": 8, "height": 32, "width": 32}  # shipped card


def test_capabilities_of_a_saved_animatediff_folder(tmp_path):
    from tests.tiny_models import build_sd_base_and_adapter

    base, adapter = build_sd_base_and_adapter(tmp_path)
    load_pipeline(str(base), motion_adapter=str(adapter)).save_pretrained(tmp_path / "animatediff")
    caps = model_capabilities(str(tmp_path / "animatediff"))
    assert capabilities(load_pipeline(str(tmp_path / "animatediff"))) == caps
    assert (caps["max_frames"], caps["native"]["height"]) == (16, 16)  # motion_max_seq_length; 8 latents x 2


def test_models_command_prints_each_model(wan_dirs, capsys):
    assert main(["models", str(wan_dirs["flf2v"]), str(wan_dirs["a14b"]), "tiny-shapes"]) == 0
    out = capsys.readouterr().out
    blocks = out.strip().split("\n\n")
    assert len(blocks) == 3
    assert blocks[0].startswith(f"{wan_dirs['flf2v']}: wan2.1-flf2v (WanImageToVideoPipeline)")
    assert "first-last frame:   native (FLF2V)" in blocks[0] and "text to video:      no" in blocks[0]
    assert "LoRA goes into:     transformer and transformer_2" in blocks[1] and "experts:            2" in blocks[1]
    assert "frames:             1 to 32 (native 8 at 8 fps)" in blocks[2]
    assert main(["models", "--json", str(wan_dirs["vace"])]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["model"] == str(wan_dirs["vace"]) and record["keyframes_any_index"] is True


def test_models_command_refuses_bad_input_in_one_line(wan_dirs, tmp_path, capsys):
    assert main(["models", str(wan_dirs["t2v"]), str(tmp_path / "nope")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing printed for the good model either
    assert captured.err.count("\n") == 1 and "t2v models: error:" in captured.err and "nope" in captured.err
    (tmp_path / "empty").mkdir()
    assert main(["models", str(tmp_path / "empty")]) == 2
    assert "no model_index.json" in capsys.readouterr().err


CHECK = """
import sys
from t2v.cli import main
try:
    main(["models", "--help"])
except SystemExit:
    pass
help_clean = "diffusers" not in sys.modules
main(["models"])
print("CLEAN" if help_clean and "diffusers" not in sys.modules else "DIFFUSERS_LOADED")
"""


def test_models_command_imports_no_diffusers():
    """``--help`` must start fast; reading configs needs no diffusers either."""
    proc = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=300)
    assert "CLEAN" in proc.stdout and "usage: t2v models" in proc.stdout, proc.stdout + proc.stderr
