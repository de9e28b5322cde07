"""The prompt splits of the quality figures: fixed, held out, and the test split apart from the dev sets."""

import pytest

from t2v.world.holdout import HELDOUT_COLOR_MOTION, HELDOUT_COLOR_SHAPE
from t2v.world.splits import DEV_SEEDS, SPLITS, TEST_SEED, noise_seed, split_specs


def uses_a_held_out_pair(spec) -> bool:
    return any((o.color, o.shape) in HELDOUT_COLOR_SHAPE or (o.color, o.motion) in HELDOUT_COLOR_MOTION
               for o in spec.objects)


def test_every_split_is_fixed_and_held_out():
    for split in SPLITS:
        specs = split_specs(split, 50, frames=8, size=32)
        assert specs == split_specs(split, 50, frames=8, size=32)
        assert all(uses_a_held_out_pair(s) for s in specs)
        assert split_specs(split, 20, frames=8, size=32) == specs[:20]  # a smaller run is a prefix


def test_the_test_split_shares_no_scene_or_noise_with_the_dev_sets():
    test = split_specs("test", 100, frames=8, size=32)
    for split in DEV_SEEDS:
        assert not set(test) & set(split_specs(split, 100, frames=8, size=32))
    assert TEST_SEED not in DEV_SEEDS.values()
    test_noise = {noise_seed("test", i) for i in range(1000)}
    assert not test_noise & {noise_seed("dev", i) for i in range(1000)}
    assert noise_seed("dev", 3) == 3  # the dev figures in the README were made with seeds 0, 1, 2, ...


def test_unknown_split_is_refused():
    with pytest.raises(ValueError, match="split"):
        split_specs("train", 5, frames=8, size=32)
    with pytest.raises(ValueError, match="n must"):
        split_specs("test", 0, frames=8, size=32)
