"""Putting the source's pixels back into an edit: outside a local blend's mask, and the subject of a change of
surroundings; checked on hand-made frames."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from t2v.editing.composite import keep_outside, keep_subject, keep_unchanged, names_surroundings


def test_keep_outside_pastes_the_source_outside_the_mask_with_a_half_rim():
    edited, source = torch.full((1, 3, 2, 5, 5), 1.0), torch.full((1, 3, 2, 5, 5), -1.0)
    mask = torch.zeros(2, 5, 5)
    mask[0, 2, 2] = 1.0  # one pixel in frame 0, nothing in frame 1
    out = keep_outside(edited, source, mask)
    expected = torch.full((2, 5, 5), -1.0)
    expected[0, 1:4, 1:4] = 0.0  # the rim: half of each
    expected[0, 2, 2] = 1.0
    assert torch.equal(out[0, 0], expected) and torch.equal(out[0, 2], expected)
    with pytest.raises(ValueError, match="mask"):
        keep_outside(edited, source, torch.zeros(2, 4, 4))


@pytest.mark.parametrize(("prompt", "words", "expected"), [
    ("a big red circle moving left on a black background", ["black"], True),
    ("a big red circle moving left on a black background.", ["black"], True),
    ("a big red circle moving left on a black background", ["red"], False),
    ("a big red circle moving left on a black background", ["big"], False),
    ("a dog running on the beach", ["beach"], True),
    ("a dog running on the grey sky", ["Grey"], True),
    ("a black dog", ["black"], False),
    ("a big red circle on a black background", ["big", "black"], False),  # the subject changes too
    ("a red circle on a black background, moving left", ["background,"], True),  # a word as the prompt splits it
])
def test_names_surroundings(prompt, words, expected):
    assert names_surroundings(prompt, words) is expected


def frames_with_square(background: int, square_at: tuple[int, int] | None, color=(220, 40, 40)) -> np.ndarray:
    frame = np.full((1, 16, 16, 3), background, dtype=np.uint8)
    if square_at is not None:
        y, x = square_at
        frame[0, y:y + 3, x:x + 3] = color
    return frame


def test_keep_subject_puts_the_source_subject_on_the_new_surround_and_drops_the_redrawn_one():
    source = frames_with_square(15, (6, 6))  # a red square on black
    edited = frames_with_square(235, (7, 8), color=(200, 60, 90))  # on white, redrawn off by a pixel or two
    surround = np.ones((1, 16, 16), dtype=bool)
    surround[0, 4:12, 4:12] = False  # the cells the surround words leave out, with their margin
    out = keep_subject(edited, source, surround)
    expected = np.full((16, 16, 3), 235, dtype=np.uint8)  # white everywhere...
    expected[6:9, 6:9] = (220, 40, 40)  # ...but the source's square, where it was
    np.testing.assert_array_equal(out[0], expected)


def test_keep_subject_leaves_an_edit_whose_subject_is_not_where_the_words_leave_room():
    source = frames_with_square(15, (1, 1))
    edited = frames_with_square(235, (1, 1))
    surround = np.ones((1, 16, 16), dtype=bool)
    surround[0, 8:14, 8:14] = False  # room left elsewhere: these words did not avoid the subject
    assert keep_subject(edited, source, surround) is None
    with pytest.raises(ValueError, match="surround"):
        keep_subject(edited, source, surround[:, :8])


def test_keep_unchanged_returns_the_source_where_the_edit_moved_a_pixel_by_less_than_the_vae_error():
    source = torch.zeros(1, 3, 1, 1, 4)
    edited = source.clone()
    edited[0, 0, 0, 0] = torch.tensor([3.0, 11.0, 20.0, -20.0]) / 127.5  # levels moved in the red channel
    out = keep_unchanged(edited, source, low=6, high=16) * 127.5
    torch.testing.assert_close(out[0, 0, 0, 0], torch.tensor([0.0, 11.0 * 0.5, 20.0, -20.0]))
    with pytest.raises(ValueError, match="low"):
        keep_unchanged(edited, source, low=16, high=6)


def test_keep_subject_puts_an_edge_pixel_over_the_new_surround_without_the_old_one():
    source = frames_with_square(15, (6, 6))
    source[0, 6, 5] = np.rint(0.5 * np.array([220, 40, 40]) + 0.5 * 15)  # half red, half black: an edge
    edited = frames_with_square(235, None)
    surround = np.ones((1, 16, 16), dtype=bool)
    surround[0, 4:12, 4:12] = False
    out = keep_subject(edited, source, surround)
    half_on_white = 0.5 * np.array([220, 40, 40]) + 0.5 * 235
    assert np.abs(out[0, 6, 5] - half_on_white).max() <= 2


@pytest.mark.parametrize("case", ["checkered", "small surround"])
def test_keep_subject_refuses_a_surround_it_cannot_key(case):
    source = frames_with_square(15, (6, 6))
    surround = np.ones((1, 16, 16), dtype=bool)
    surround[0, 4:12, 4:12] = False
    if case == "checkered":
        source[0, ::2, ::2], source[0, 1::2, 1::2] = 170, 170  # two tones: no one colour to key against
        source[0, 6:9, 6:9] = (220, 40, 40)
    else:
        surround[0, :15, :15] = False  # the words' region leaves most of the frame: too little to key on
    assert keep_subject(frames_with_square(235, None), source, surround) is None
