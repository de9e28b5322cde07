import os
import shlex

import pytest

from tests.tiny_models import build_tiny_shapes_folder


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """A random-weight model of tiny-shapes' architecture, exported in its shipping format."""
    return build_tiny_shapes_folder(tmp_path_factory.mktemp("tiny") / "tiny-test")


@pytest.fixture
def full_disk_ffmpeg(tmp_path_factory, monkeypatch):
    """The real ffmpeg, with the file it writes turned into a link to /dev/full, which refuses every
    write with ENOSPC: a full disk at the OS boundary, under the real write path."""
    import imageio_ffmpeg

    if not os.path.exists("/dev/full"):
        pytest.skip("needs /dev/full")
    real = imageio_ffmpeg.get_ffmpeg_exe()
    script = tmp_path_factory.mktemp("ffmpeg") / "ffmpeg"
    script.write_text(f'#!/bin/sh\nfor out; do :; done\nln -sf /dev/full "$out"\nexec {shlex.quote(real)} "$@"\n')
    script.chmod(0o755)
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(script))


@pytest.fixture(scope="session")
def wan_dir(tmp_path_factory):
    """A tiny random Wan 2.1 T2V model saved as a t2v Wan folder (native 16×16, 9 frames)."""
    from t2v.pipelines import T2VWanPipeline
    from tests.tiny_wan import tiny_wan_pipeline

    folder = tmp_path_factory.mktemp("wan") / "tiny-wan"
    tiny_wan_pipeline(T2VWanPipeline).save_pretrained(folder)
    return folder
