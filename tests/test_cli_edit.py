"""``t2v edit`` in-process through ``t2v.cli.main``."""

from __future__ import annotations

import numpy as np
import pytest

from t2v.cli import main
from t2v.video import read_video, write_video
from t2v.world.render import render
from t2v.world.spec import ShapeObject, WorldSpec

SOURCE = "a red circle moving left on a black background"
TARGET = "a green circle moving left on a black background"


def run_cli(argv: list[str]) -> int:
    """The exit code, whether ``main`` returns it or argparse exits with it."""
    try:
        return main(argv)
    except SystemExit as exit_:
        return int(exit_.code)


@pytest.fixture(scope="module")
def clip_path(tmp_path_factory):
    spec = WorldSpec(objects=(ShapeObject("circle", "red", "big", "left", x=0.7),), frames=4, size=32)
    return write_video(render(spec), tmp_path_factory.mktemp("clip") / "in.gif")


def test_edit_writes_the_video_and_the_mask(tiny_model_dir, clip_path, tmp_path, capsys):
    out, mask = tmp_path / "out.gif", tmp_path / "mask.gif"
    code = main(["edit", str(clip_path), "--source", SOURCE, "--target", TARGET, "-o", str(out),
                 "--mask-out", str(mask), "--model", str(tiny_model_dir), "--steps", "2"])
    assert code == 0
    assert read_video(out).shape == (4, 32, 32, 3)
    assert read_video(mask).shape == (4, 32, 32, 3)
    printed = capsys.readouterr().out
    assert "red -> green (replace)" in printed and "wrote" in printed


def test_no_keep_source_writes_the_decoding_where_the_source_was_kept(clip_path, tmp_path):
    """On tiny-shapes (a colour edit keeps a local blend): by default the kept part is the source's pixels."""
    outs = [tmp_path / "kept.gif", tmp_path / "decoded.gif"]
    for out, extra in zip(outs, ([], ["--no-keep-source"]), strict=True):
        assert main(["edit", str(clip_path), "--source", SOURCE, "--target", TARGET, "-o", str(out),
                     "--steps", "4", *extra]) == 0
    kept, decoded, source = read_video(outs[0]), read_video(outs[1]), read_video(clip_path)
    error = [np.abs(video.astype(int) - source.astype(int)).mean() for video in (kept, decoded)]
    assert error[0] < error[1]


@pytest.mark.parametrize(("args", "message"), [
    (["--target", TARGET.replace("green", "red")], "nothing to edit"),
    (["--target", "  "], "--target"),
    (["--threshold", "1.5"], "--threshold"),
    (["--cross-window", "0.8:0.2"], "--cross-window"),
    (["--steps", "0"], "--steps"),
    (["--guidance", "-1"], "--guidance"),
    (["--reference", "missing.png"], "--reference"),
    (["--mask-out", "{out}"], "--mask-out"),
    (["-o", "{tmp}/out.txt"], "out.txt"),
])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(tiny_model_dir, clip_path, tmp_path, capsys, args,
                                                         message):
    out = tmp_path / "out.gif"
    args = [a.format(out=out, tmp=tmp_path) for a in args]
    base = ["edit", str(clip_path), "--source", SOURCE, "--target", TARGET, "-o", str(out),
            "--model", str(tiny_model_dir), "--steps", "1"]
    assert run_cli(base + args) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err
    assert list(tmp_path.iterdir()) == []


def test_a_missing_video_or_a_wrong_size_exits_2(tiny_model_dir, tmp_path, capsys):
    out = tmp_path / "out.gif"
    assert main(["edit", str(tmp_path / "nope.mp4"), "--source", SOURCE, "--target", TARGET, "-o", str(out),
                 "--model", str(tiny_model_dir)]) == 2
    assert "does not exist" in capsys.readouterr().err
    big = write_video(np.zeros((4, 64, 64, 3), np.uint8), tmp_path / "big.gif")
    assert main(["edit", str(big), "--source", SOURCE, "--target", TARGET, "-o", str(out),
                 "--model", str(tiny_model_dir)]) == 2
    err = capsys.readouterr().err.strip()
    assert "64x64" in err and "\n" not in err
    assert not out.exists()
    assert main(["edit", str(big), "--source", SOURCE, "--target", "a <ref>", "-o", str(out),
                 "--reference", str(big), "--model", str(tiny_model_dir)]) == 2
    assert not out.exists()
    small = write_video(np.zeros((4, 32, 32, 3), np.uint8), tmp_path / "small.gif")
    assert main(["edit", str(small), "--source", SOURCE, "--target", "a blue square", "-o", str(out),
                 "--reference", str(big), "--model", str(tiny_model_dir)]) == 2
    assert "--target must contain '<ref>'" in capsys.readouterr().err
    assert not out.exists()
