import numpy as np

from t2v.cli import main
from t2v.video import read_video


def test_generate_writes_a_seeded_video(tiny_model_dir, tmp_path):
    out_a, out_b = tmp_path / "a.gif", tmp_path / "sub" / "b.gif"
    args = ["a small green square moving up on a black background", "--model", str(tiny_model_dir), "--steps", "2",
            "--seed", "5"]
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
