"""The direction-steering probe: centroid drift on rendered clips, and the probe on a tiny random model."""

from __future__ import annotations

import pytest

from t2v.models import load_pipeline
from t2v.training.common import to_model_range
from t2v.training.tiny_shapes.steering import ANTONYMS, directional_specs, drift, measure_steering
from t2v.world.render import render
from t2v.world.spec import BACKGROUNDS, TRANSLATIONS, TRAVEL, ShapeObject, WorldSpec


def _moving(direction: str, background: str = "gray") -> WorldSpec:
    """A small red circle whose whole path stays inside the frame."""
    dx, dy = TRANSLATIONS.get(direction, (0.0, 0.0))
    start = ShapeObject(color="red", shape="circle", size="small", motion=direction,
                        x=0.5 - dx * TRAVEL / 2, y=0.5 - dy * TRAVEL / 2)
    return WorldSpec(objects=(start,), background=background, frames=8, size=32)


@pytest.mark.parametrize("direction", sorted(ANTONYMS))
def test_drift_follows_the_rendered_motion_and_reverses_for_the_antonym(direction):
    spec = _moving(direction)
    clip = to_model_range(render(spec))
    per_frame = TRAVEL * spec.size / (spec.frames - 1)
    along = drift(clip, BACKGROUNDS[spec.background], direction)
    assert along == pytest.approx(per_frame, rel=0.15)
    assert drift(clip, BACKGROUNDS[spec.background], ANTONYMS[direction]) == pytest.approx(-along)


def test_drift_of_a_still_object_is_zero():
    spec = _moving("still", background="black")
    assert abs(drift(to_model_range(render(spec)), BACKGROUNDS["black"], "up")) < 0.05


def test_directional_specs_are_one_translating_object_on_a_plain_static_background():
    specs = directional_specs(12, seed=3, frames=4, size=32)
    assert len(specs) == 12
    for spec in specs:
        assert len(spec.objects) == 1 and spec.objects[0].motion in ANTONYMS
        assert spec.background != "checkered" and spec.camera == "static"
    assert len({s.objects[0].motion for s in specs}) > 1


def test_probe_on_a_tiny_random_model_reports_each_timestep(tiny_model_dir):
    pipe = load_pipeline(str(tiny_model_dir))
    specs = directional_specs(2, seed=0, frames=4, size=32)
    report = measure_steering(pipe, specs, timesteps=(900, 400))
    assert set(report) == {"t=900", "t=400"}
    true = [drift(to_model_range(render(s)), BACKGROUNDS[s.background], s.objects[0].motion) for s in specs]
    for row in report.values():
        assert row["true"] == pytest.approx(sum(true) / len(true), abs=1e-3)
        assert row["steer"] == pytest.approx((row["caption"] - row["antonym"]) / (2 * row["true"]), abs=2e-3)


def test_probe_rejects_scenes_without_a_translation(tiny_model_dir):
    pipe = load_pipeline(str(tiny_model_dir))
    with pytest.raises(ValueError, match="specs"):
        measure_steering(pipe, [_moving("bounce")], timesteps=(500,))
