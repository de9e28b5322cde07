"""Video files (mp4 and gif round trips, codec, atomic writes) and frame conversions."""

from __future__ import annotations

import errno
import subprocess

import imageio_ffmpeg
import numpy as np
import pytest
import torch
from PIL import Image

from t2v.video import (
    check_writable,
    frames_psnr,
    read_video,
    resize_frames,
    to_pil_frames,
    to_tensor_frames,
    to_uint8_frames,
    write_video,
)
from t2v.world.render import render
from t2v.world.spec import ShapeObject, WorldSpec


@pytest.fixture(scope="module")
def clip() -> np.ndarray:
    spec = WorldSpec(
        (ShapeObject("circle", "red", "big", "right", x=0.3, y=0.3), ShapeObject("triangle", "blue", "small", "bounce",
                                                                                x=0.7, y=0.7)),
        background="checkered", camera="pan left", frames=12, size=64,
    )
    return render(spec)


def _ffmpeg_info(path) -> str:
    result = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
                            capture_output=True, text=True, timeout=60)
    return result.stderr


# -- files --------------------------------------------------------------------------------

def test_mp4_round_trip_is_h264_yuv420p_faststart(tmp_path, clip):
    path = write_video(clip, tmp_path / "clip.mp4", fps=8)
    back = read_video(path)
    assert back.shape == clip.shape and back.dtype == np.uint8
    assert frames_psnr(clip, back) > 30.0
    info = _ffmpeg_info(path)
    assert "Video: h264" in info and "yuv420p" in info and "8 fps" in info
    data = path.read_bytes()
    assert 0 <= data.find(b"moov") < data.find(b"mdat")  # index first: playback starts before download ends
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]


def test_gif_round_trip_is_exact_loops_and_keeps_repeated_frames(tmp_path):
    still = render(WorldSpec((ShapeObject("square", "green", "small"),), background="white", frames=6))
    assert (still == still[0]).all()  # every frame the same: encoders like to merge such frames
    moving = render(WorldSpec((ShapeObject("circle", "yellow", "big", "shrink"),), background="gray", frames=9))
    for name, frames in (("still.gif", still), ("moving.gif", moving)):
        path = write_video(frames, tmp_path / name, fps=8)
        back = read_video(path)
        assert back.shape == frames.shape
        assert np.array_equal(back, frames)  # few colours: one palette holds them all
        with Image.open(path) as image:
            assert image.info.get("loop") == 0


def test_odd_sizes_are_padded_to_even_for_mp4(tmp_path, caplog):
    frames = np.zeros((4, 33, 47, 3), dtype=np.uint8)
    frames[:, :, :20] = (200, 40, 40)
    with caplog.at_level("WARNING", logger="t2v.video"):
        back = read_video(write_video(frames, tmp_path / "odd.mp4"))
    assert back.shape == (4, 34, 48, 3)
    assert frames_psnr(frames, back[:, :33, :47]) > 30.0
    assert "even" in caplog.text
    assert read_video(write_video(frames, tmp_path / "odd.gif")).shape == frames.shape  # gif takes any size


def test_write_makes_missing_folders(tmp_path, clip):
    path = write_video(clip[:3], tmp_path / "a" / "b" / "c.gif")
    assert read_video(path).shape == (3, 64, 64, 3)


@pytest.mark.parametrize("name", ["clip.avi", "clip", "clip.mp4.txt"])
def test_unsupported_extension_names_the_path(tmp_path, clip, name):
    with pytest.raises(ValueError, match="path must end in .mp4 or .gif") as info:
        write_video(clip, tmp_path / name)
    assert name in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_bad_arguments_are_rejected_before_writing(tmp_path, clip):
    with pytest.raises(ValueError, match="fps"):
        write_video(clip, tmp_path / "x.mp4", fps=0)
    with pytest.raises(ValueError, match="crf"):
        write_video(clip, tmp_path / "x.mp4", crf=60)
    (tmp_path / "folder.mp4").mkdir()
    with pytest.raises(ValueError, match="folder"):
        write_video(clip, tmp_path / "folder.mp4")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.mp4"]


def test_failing_write_leaves_nothing_and_keeps_the_old_file(tmp_path, tmp_path_factory, clip, monkeypatch):
    target = tmp_path / "keep.mp4"
    target.write_bytes(b"previous video")
    crashing = tmp_path_factory.mktemp("ffmpeg") / "ffmpeg"
    crashing.write_text('#!/bin/sh\nfor out; do :; done\nprintf "half a file" > "$out"\n'
                        'echo "Conversion failed!" >&2\nexit 1\n')  # half a file, then the encoder dies
    crashing.chmod(0o755)
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(crashing))
    with pytest.raises(OSError, match="Conversion failed!"):
        write_video(clip, target)
    with pytest.raises(OSError, match="Conversion failed!"):
        write_video(clip, tmp_path / "new" / "deeper" / "x.gif")
    assert target.read_bytes() == b"previous video"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.mp4"]


@pytest.mark.parametrize("name", ["clip.mp4", "clip.gif"])
def test_a_full_disk_is_an_oserror_with_enospc_and_leaves_nothing(tmp_path, clip, full_disk_ffmpeg, name):
    with pytest.raises(OSError) as info:
        write_video(clip, tmp_path / "new" / name)
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(tmp_path / "new" / name)
    assert list(tmp_path.iterdir()) == []


def test_check_writable_raises_what_writing_would(tmp_path, clip):
    (tmp_path / "file").write_text("not a folder")
    for path in (tmp_path / "file" / "x.mp4", tmp_path / "file" / "deeper" / "x.mp4"):
        with pytest.raises(NotADirectoryError):
            check_writable(path)
        with pytest.raises(NotADirectoryError):
            write_video(clip, path)
    check_writable(tmp_path / "new" / "deeper" / "x.mp4")  # folders it would make are fine
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_read_rejects_missing_and_non_video_files(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        read_video(tmp_path / "missing.mp4")
    (tmp_path / "text.mp4").write_text("not a video")
    with pytest.raises(ValueError, match="not a readable video"):
        read_video(tmp_path / "text.mp4")
    (tmp_path / "text.gif").write_text("not a gif")
    with pytest.raises(ValueError, match="not a readable GIF"):
        read_video(tmp_path / "text.gif")
    Image.new("RGB", (8, 8)).save(tmp_path / "image.png")
    (tmp_path / "image.png").rename(tmp_path / "png.gif")
    with pytest.raises(ValueError, match="not a GIF"):
        read_video(tmp_path / "png.gif")
    with pytest.raises(ValueError, match="path must end in"):
        read_video(tmp_path / "clip.webm")


# -- conversions --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, size=(5, 16, 24, 3), dtype=np.uint8)


def test_float_numpy_and_batches(small):
    unit = small.astype(np.float32) / 255.0
    assert np.array_equal(to_uint8_frames(unit), small)
    assert np.array_equal(to_uint8_frames(unit[None]), small)  # diffusers output_type="np" is batched
    assert np.array_equal(to_uint8_frames(list(unit)), small)
    with pytest.raises(ValueError, match="batch of 2 videos"):
        to_uint8_frames(np.stack([unit, unit]))
    with pytest.raises(ValueError, match=r"must lie in \[0.0, 1.0\]"):
        to_uint8_frames(unit * 255.0)


def test_torch_layouts_round_trip(small):
    for layout in ("FCHW", "BFCHW", "BCFHW"):
        tensor = to_tensor_frames(small, output_layout=layout)
        assert tensor.dtype == torch.float32
        assert np.array_equal(to_uint8_frames(tensor), small), layout
    fchw = to_tensor_frames(small)
    assert fchw.shape == (5, 3, 16, 24) and 0.0 <= float(fchw.min()) and float(fchw.max()) <= 1.0
    bcfhw = to_tensor_frames(small, output_layout="BCFHW")
    assert bcfhw.shape == (1, 3, 5, 16, 24) and float(bcfhw.min()) < 0.0
    assert np.array_equal(to_uint8_frames(list(fchw)), small)  # a list of (C, H, W) frame tensors


def test_conventions_match_diffusers_video_processor(small):
    from diffusers.video_processor import VideoProcessor

    processor = VideoProcessor(vae_scale_factor=8)
    frames = np.random.default_rng(1).integers(0, 256, size=(4, 16, 24, 3), dtype=np.uint8)
    encoded = processor.preprocess_video(frames.astype(np.float32) / 255.0)  # (B, C, F, H, W) in [-1, 1]
    ours = to_tensor_frames(frames, output_layout="BCFHW")
    assert ours.shape == encoded.shape
    assert torch.allclose(ours, encoded.float(), atol=1e-6)
    decoded_np = processor.postprocess_video(encoded, output_type="np")  # (B, F, H, W, C) in [0, 1]
    assert np.array_equal(to_uint8_frames(decoded_np), frames)
    decoded_pt = processor.postprocess_video(encoded, output_type="pt")  # (B, F, C, H, W) in [0, 1]
    assert np.array_equal(to_uint8_frames(decoded_pt), frames)
    decoded_pil = processor.postprocess_video(encoded, output_type="pil")  # [[PIL, ...]]
    assert np.array_equal(to_uint8_frames(decoded_pil), frames)
    assert np.array_equal(to_uint8_frames(encoded), frames)


def test_pil_frames_and_channels(small):
    images = to_pil_frames(small)
    assert len(images) == 5 and images[0].size == (24, 16) and images[0].mode == "RGB"
    assert np.array_equal(to_uint8_frames(images), small)
    grey = small[..., :1]
    assert np.array_equal(to_uint8_frames(grey), np.repeat(grey, 3, axis=-1))
    rgba = np.concatenate([small, np.full(small.shape[:-1] + (1,), 255, np.uint8)], axis=-1)
    assert np.array_equal(to_uint8_frames(rgba), small)
    with pytest.raises(ValueError, match="one size"):
        to_uint8_frames([Image.new("RGB", (8, 8)), Image.new("RGB", (8, 9))])


def test_ambiguous_tensor_needs_a_layout():
    tensor = torch.rand(1, 3, 3, 8, 8)
    with pytest.raises(ValueError, match="ambiguous"):
        to_uint8_frames(tensor)
    as_frames_first = to_uint8_frames(tensor, layout="BFCHW")
    as_channels_first = to_uint8_frames(tensor * 2 - 1, layout="BCFHW")
    assert as_frames_first.shape == as_channels_first.shape == (3, 8, 8, 3)
    assert np.array_equal(as_frames_first, np.rint(tensor[0].permute(0, 2, 3, 1).numpy() * 255).astype(np.uint8))
    with pytest.raises(ValueError, match="layout must be one of"):
        to_uint8_frames(tensor, layout="NCHW")


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="empty"):
        to_uint8_frames([])
    with pytest.raises(ValueError, match="4 dims"):
        to_uint8_frames(np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(ValueError, match="channels"):
        to_uint8_frames(np.zeros((2, 8, 8, 5), np.uint8))
    with pytest.raises(ValueError, match="finite"):
        to_uint8_frames(np.full((2, 8, 8, 3), np.nan, np.float32))
    with pytest.raises(ValueError, match="numpy array, torch tensor"):
        to_uint8_frames("frames.mp4")


def test_resize_frames_is_nearest_neighbour(small):
    big = resize_frames(small, 48)  # 16x24 frames, 3x larger
    assert big.shape == (5, 48, 72, 3)
    assert np.array_equal(big[:, ::3, ::3], small) and np.array_equal(big[:, 2::3, 2::3], small)
    assert resize_frames(small, 16).tobytes() == small.tobytes()
    with pytest.raises(ValueError, match=r"size must be an integer in \[1, 4096\]"):
        resize_frames(small, 0)
