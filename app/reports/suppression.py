"""Small-cell suppression: no published count of fewer than 11 flags.

The rule is CMS's cell-size suppression policy (no cell of 1 to 10 beneficiaries, records or
events may be shown, nor anything from which such a cell can be worked out); here every count
below 11, zero included, is shown as "fewer than 11".

Complementary suppression, one rule for every table: the cells of a group add up to a total
that is shown (the flags by service add up to the flags received), so when exactly one cell of
a group is suppressed, the smallest other cell is suppressed too (ties: the first in the
group's stable order), and the total stays. Estimated costs follow their count: a suppressed
count hides its cost. Tables are protected one by one; this is not a disclosure audit across
tables.

Differencing: an organization's staff know their own organization's counts, so a
system-wide cell would give away the other organizations' part by subtraction. Where the
reader's own counts are ``known``, a cell is also small when the part they do not know (the
cell less their own) counts fewer than 11.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

THRESHOLD = 11


class Suppression(StrEnum):
    SMALL_CELL = "small_cell"  # fewer than THRESHOLD flags
    COMPLEMENTARY = "complementary"  # hidden so a small cell cannot be worked out from a total


def suppressed(
    counts: Sequence[int], known: Sequence[int] | None = None
) -> list[Suppression | None]:
    """Which cells of one group (cells that add up to a shown total) must be hidden, and why;
    ``known``: the reader's own part of each cell (see the module docstring)."""
    own = known if known is not None else [None] * len(counts)
    marks: list[Suppression | None] = [
        Suppression.SMALL_CELL
        if count < THRESHOLD or (mine is not None and count - mine < THRESHOLD)
        else None
        for count, mine in zip(counts, own, strict=True)
    ]
    if sum(mark is not None for mark in marks) == 1:
        shown = [index for index, mark in enumerate(marks) if mark is None]
        if shown:
            marks[min(shown, key=lambda index: (counts[index], index))] = Suppression.COMPLEMENTARY
    return marks
