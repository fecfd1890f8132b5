"""The suppression rule itself: fewer than 11 is hidden, and a lone hidden cell takes the next
smallest with it."""

from __future__ import annotations

import pytest

from app.reports.suppression import Suppression, suppressed

SMALL, OTHER = Suppression.SMALL_CELL, Suppression.COMPLEMENTARY


@pytest.mark.parametrize(
    ("counts", "marks"),
    [
        ([11], [None]),
        ([10], [SMALL]),
        ([0], [SMALL]),
        ([10, 11, 40], [SMALL, OTHER, None]),
        ([40, 10, 25, 30], [None, SMALL, OTHER, None]),
        ([12, 12, 3], [OTHER, None, SMALL]),  # ties: the first in the group's order
        ([11, 10, 10], [None, SMALL, SMALL]),  # two hidden: neither can be worked out
        ([3, 2, 40], [SMALL, SMALL, None]),
        ([], []),
    ],
)
def test_small_cells_and_their_complements_are_suppressed(counts, marks):
    assert suppressed(counts) == marks


def test_a_cell_whose_unknown_part_is_small_is_suppressed_for_a_reader_who_knows_the_rest():
    # The system's 12 PSA flags, 9 of them the reader's own: the other 3 would show.
    counts, known = [14, 12, 12], [0, 9, 0]

    assert suppressed(counts) == [None, None, None]
    assert suppressed(counts, known) == [None, Suppression.SMALL_CELL, Suppression.COMPLEMENTARY]


def test_a_reader_who_knows_a_whole_cell_learns_nothing_new_from_it_and_it_is_hidden():
    # Their own organization made all 20: "the others had 0" is a small cell too.
    assert suppressed([20, 30, 40], [20, 0, 0])[0] is Suppression.SMALL_CELL
