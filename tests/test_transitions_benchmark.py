"""The transitions benchmark's pixel-made reference bridges, checked against hand-built cases."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from t2v.world.render import render
from t2v.world.spec import ShapeObject, WorldSpec

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "transitions.py"
_spec = importlib.util.spec_from_file_location("transitions_benchmark", _PATH)
transitions = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = transitions  # its dataclasses look their module up there
_spec.loader.exec_module(transitions)


def pair(background_b: str = "white") -> transitions.Pair:
    one = lambda shape, color, x, background: WorldSpec(  # noqa: E731
        objects=(ShapeObject(shape, color, "big", "still", x=x, y=0.5),), frames=8, size=32, background=background)
    return transitions.Pair(one("circle", "red", 0.3, "black"), one("square", "blue", 0.7, background_b),
                            one("triangle", "green", 0.5, "black"), seed=0)


def test_a_three_way_dissolve_without_the_middle_scene_is_the_crossfade():
    p = pair()
    crossfade = transitions.linear_dissolve(p.clip_a[-1], p.clip_b[0], transitions.BRIDGE)
    assert np.array_equal(transitions.three_way(p, (0,) * transitions.BRIDGE), crossfade)
    middle = transitions.three_way(p, (0, 0, 1, 1, 0, 0))
    t_frame = render(p.t)[transitions.FRAMES // 2 - 1]
    assert np.array_equal(middle[2], t_frame) and np.array_equal(middle[3], t_frame)  # T's frame alone


def test_an_opaque_swap_keeps_each_object_whole_over_an_even_background_dissolve():
    p = pair()
    bridge = transitions.opaque_swap(p, fade=False)
    a_centre, b_centre = (16, round(0.3 * 32)), (16, round(0.7 * 32))
    for k, frame in enumerate(bridge, start=1):
        a_shown = k <= transitions.BRIDGE // 2
        assert np.array_equal(frame[a_centre], p.clip_a[-1][a_centre]) == a_shown
        assert np.array_equal(frame[b_centre], p.clip_b[0][b_centre]) == (not a_shown)
        corner = 15 + (235 - 15) * k / (transitions.BRIDGE + 1)  # black (15) to white (235), evenly
        assert abs(int(frame[0, 0, 0]) - corner) <= 1
    faded = transitions.opaque_swap(p, fade=True)
    middle = faded[transitions.BRIDGE // 2 - 1][a_centre].astype(float)
    assert np.all(np.abs(middle - (2 / 3 * p.clip_a[-1][a_centre] + 1 / 3 * faded[transitions.BRIDGE // 2 - 1][0, 0]))
                  <= 1.5)


def test_jumps_are_split_by_whether_the_ends_share_a_background():
    same, other = pair("black"), pair("white")
    bridges = [transitions.hard_cut(p.clip_a[-1], p.clip_b[0], transitions.BRIDGE) for p in (same, other)]
    split = transitions.jump_by_background([same, other], bridges)
    cut = transitions.BRIDGE + 1  # a hard cut's ratio
    assert split == {"max_jump_ratio_same_background": cut, "max_jump_ratio_other_backgrounds": cut}


@pytest.mark.parametrize(("argv", "message"), [
    (["--shares", "0.4"], "--guides and --shares go with --sweep"),
    (["--split", "dev", "--sweep", "--guides", "0,0.3", "--shares", "0.4"], "give one"),
    (["--split", "dev", "--references", "--shares", "0.4"], "drop --sweep, --guides, --shares"),
])
def test_sweep_options_are_refused_where_they_do_not_apply(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        transitions.main(argv)
    assert exit_info.value.code == 2 and message in capsys.readouterr().err
