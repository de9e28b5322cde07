"""Verbs that use no model start without importing diffusers (seconds of import a user would wait for)."""

from __future__ import annotations

import subprocess
import sys

import pytest

CHECK = """
import sys
from t2v.cli import main
try:
    main({argv!r})
except SystemExit:
    pass
print("DIFFUSERS_LOADED" if "diffusers" in sys.modules else "DIFFUSERS_ABSENT")
"""


@pytest.mark.parametrize("argv", [["--help"], ["world", "caption", "--seed", "1", "--n", "2"],
                                  ["questions", "a big red ball bouncing on a gray background"],
                                  ["batch", "--help"], ["batch", "generate", "--help"]])
def test_model_free_verbs_do_not_import_diffusers(argv):
    proc = subprocess.run([sys.executable, "-c", CHECK.format(argv=argv)], capture_output=True, text=True,
                          timeout=300)
    assert "DIFFUSERS_ABSENT" in proc.stdout, proc.stdout + proc.stderr


def test_the_check_sees_a_verb_that_loads_a_model(tiny_model_dir, tmp_path):
    argv = ["generate", "a red ball", "--model", str(tiny_model_dir), "--steps", "1", "-o", str(tmp_path / "a.gif")]
    proc = subprocess.run([sys.executable, "-c", CHECK.format(argv=argv)], capture_output=True, text=True,
                          timeout=300)
    assert "DIFFUSERS_LOADED" in proc.stdout, proc.stdout + proc.stderr
