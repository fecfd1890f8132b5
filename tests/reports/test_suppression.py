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
