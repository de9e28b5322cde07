"""``t2v generate`` in-process through ``t2v.cli.main``, and once as a fresh process as users run it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from t2v.cli import build_parser, main, show_library_output
from t2v.video import read_video

PROMPT = "a small green square moving up on a black background"
# The one bar that stays: denoising progress, which erases itself when done (no description, unlike
# the libraries' "Loading weights" bars).
DENOISING_BAR = re.compile(r"\d+%\|[^|]*\| \d+/\d+ \[")


def _messages(err: str) -> list[str]:
    """What stderr says besides the denoising bar, one entry per line or carriage-return piece."""
    pieces = (piece.strip() for piece in re.split(r"[\r\n]", err))
    return [piece for piece in pieces if piece and not DENOISING_BAR.match(piece)]


def test_generate_writes_a_seeded_video(tiny_model_dir, tmp_path):
    out_a, out_b = tmp_path / "a.gif", tmp_path / "sub" / "b.gif"
    args = [PROMPT, "--model", str(tiny_model_dir), "--steps", "2", "--seed", "5"]
    assert main(["generate", *args, "-o", str(out_a)]) == 0
    assert main(["generate", *args, "-o", str(out_b)]) == 0
    a, b = read_video(out_a), read_video(out_b)
    assert a.shape == (4, 32, 32, 3)
    np.testing.assert_array_equal(a, b)


def test_generate_bad_input_exits_2_and_writes_nothing(tiny_model_dir, tmp_path, capsys):
    out = tmp_path / "x.mp4"
    assert main(["generate", "a red ball", "--model", str(tiny_model_dir), "--frames", "100", "-o", str(out)]) == 2
    assert "num_frames" in capsys.readouterr().err
    assert not out.exists()
    assert main(["generate", "a red ball", "--model", str(tiny_model_dir), "-o", str(tmp_path / "x.avi")]) == 2
    assert main(["generate", "a red ball", "--model", str(tmp_path / "missing"), "-o", str(out)]) == 2
    assert not out.exists()


def test_plain_generate_prints_only_its_closing_line(tiny_model_dir, tmp_path):
    """No library warnings, no weight-loading bars; the closing line gives the video's length and the time
    taken, each labelled."""
    out = tmp_path / "out.mp4"
    done = subprocess.run([sys.executable, "-m", "t2v.cli", "generate", PROMPT, "--model", str(tiny_model_dir),
                           "--steps", "2", "-o", str(out)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert _messages(done.stderr) == []
    assert re.fullmatch(rf"wrote {re.escape(str(out))}: 4 frames at 8 fps \(0\.5 s of video\), took \d+\.\d s\n",
                        done.stdout), done.stdout
    assert read_video(out).shape == (4, 32, 32, 3)


def test_verbose_shows_the_libraries_loading_bars_again(tiny_model_dir, tmp_path, capfd):
    args = ["generate", PROMPT, "--model", str(tiny_model_dir), "--steps", "1", "-o", str(tmp_path / "x.gif")]
    try:
        assert main(args) == 0
        assert _messages(capfd.readouterr().err) == []
        assert main(["-v", *args]) == 0
        assert "Loading weights" in capfd.readouterr().err
    finally:
        show_library_output(True)  # the libraries' defaults, for the tests that follow


def test_guidance_must_be_a_non_negative_number(tmp_path, capsys):
    for value in ("-1", "-0.5", "nan", "inf", "lots"):
        with pytest.raises(SystemExit) as info:
            main(["generate", PROMPT, "--guidance", value, "-o", str(tmp_path / "x.mp4")])
        assert info.value.code == 2
        assert capsys.readouterr().err.splitlines() == [
            f"t2v generate: error: argument --guidance: expected a non-negative number, got {value!r} "
            "(see t2v generate --help)"]
    assert build_parser().parse_args(["generate", PROMPT, "--guidance", "0", "-o", "x.mp4"]).guidance == 0.0
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_output_exits_1_before_loading_the_model(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    missing_model = str(tmp_path / "no-model")  # loading it would exit 2
    cases = [(tmp_path / "file" / "x.mp4", "Not a directory"),
             (tmp_path / "file" / "deeper" / "x.gif", "Not a directory")]
    if Path("/proc/self").exists():
        cases.append((Path("/proc/x.mp4"), ""))  # procfs takes no new files, even from root
    for output, reason in cases:
        assert main(["generate", PROMPT, "--model", missing_model, "-o", str(output)]) == 1
        err = capsys.readouterr().err.splitlines()
        assert len(err) == 1 and err[0].startswith(f"t2v generate: error: cannot write {output}: ")
        assert err[0].endswith(reason)
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


def test_a_full_disk_exits_1_with_one_line_and_keeps_the_old_file(tiny_model_dir, tmp_path, capsys,
                                                                   full_disk_ffmpeg):
    out = tmp_path / "out.mp4"
    out.write_bytes(b"old video")
    assert main(["generate", PROMPT, "--model", str(tiny_model_dir), "--steps", "1", "-o", str(out)]) == 1
    assert _messages(capsys.readouterr().err) == [f"t2v generate: error: cannot write {out}: No space left on device"]
    assert out.read_bytes() == b"old video" and list(tmp_path.iterdir()) == [out]
