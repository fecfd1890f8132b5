"""May this reply be shared in the transparency report? A check for patient and clinician data.

A reply marked shareable may be quoted, beside its service and reason, in the transparency
report ("you said, we did"), which leaves the quality team. Before such a reply is stored, and
again whenever a report quotes it, its text is searched for what would identify a patient or
a clinician:

- an email address, a phone number, a date (``3/14/2026``, ``2026-03-14``, ``March 14``,
  ``14 Mar``, ``March 2026``), or a run of five or more digits (an MRN, an account number);
- the flag's own patient, encounter and order FHIR ids (ids of three characters or more);
- the reporter's name (any part of it of three letters or more) and the names in the staff
  directory the caller can see (the same rule);
- an honorific followed by a capitalised word (``Dr. Lee``, ``Mrs Patel``, ``Nurse Kim``).

This is a safety net, not a guarantee. It finds what looks like these, no more: a name it has
never seen ("the patient's daughter Ana") or a date written out in words passes, and innocent
text can be refused (a CPT code is five digits; a colleague called "Ward" blocks the word
"ward"). The person who ticks "may be shared" stays responsible for what they write; the check
catches slips. A refusal names what kind of thing was found, never the matched text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.flags.errors import UnshareableReply
from app.flags.models import Flag
from app.staff import repository as staff_directory

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_HONORIFICS = ("dr", "mr", "mrs", "ms", "mx", "miss", "prof", "professor", "doctor", "nurse")

# What is looked for, in the order a refusal lists it.
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("an email address", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    (
        "a phone number",
        re.compile(
            r"(?<!\d)(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?!\d)"
            r"|(?<![\d-])\d{3}-\d{4}(?![\d-])"
        ),
    ),
    (
        "a date",
        re.compile(
            r"\b\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}\b"
            rf"|\b{_MONTH}\s+\d{{1,4}}\b|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?!\w)",
            re.IGNORECASE,
        ),
    ),
    ("a run of 5 or more digits", re.compile(r"\d{5,}")),
    (
        "an honorific followed by a name",
        re.compile(rf"\b(?i:{'|'.join(_HONORIFICS)})\b\.?\s+[A-Z]"),
    ),
)
_WORDS = re.compile(r"[^\W\d_]+")
MIN_NAME_PART = 3
MIN_ID_LENGTH = 3


def name_parts(names: Iterable[str | None]) -> set[str]:
    """The parts of people's names a text must not contain: words of three letters or more,
    lower-cased, honorifics left out."""
    return {
        word.lower()
        for name in names
        if name
        for word in _WORDS.findall(name)
        if len(word) >= MIN_NAME_PART and word.lower() not in _HONORIFICS
    }


def _mentions_any(text: str, words: Iterable[str]) -> bool:
    """Whether ``text`` holds any of ``words`` as a whole word (any case)."""
    alternatives = sorted({re.escape(word) for word in words if word}, key=len, reverse=True)
    if not alternatives:
        return False
    pattern = rf"(?<![\w.-])(?:{'|'.join(alternatives)})(?![\w-])"
    return re.search(pattern, text, re.IGNORECASE) is not None


@dataclass(frozen=True)
class Known:
    """What is known to identify someone on one flag: its FHIR ids, the reporter's name parts,
    and the staff directory's."""

    ids: frozenset[str]
    reporter: frozenset[str]
    staff: frozenset[str]

    @classmethod
    def of(cls, flag: Flag, staff: Iterable[str]) -> Known:
        ids = (flag.patient_fhir_id, flag.encounter_fhir_id, flag.order_fhir_id)
        return cls(
            ids=frozenset(i for i in ids if i and len(i) >= MIN_ID_LENGTH),
            reporter=frozenset(name_parts([flag.reporter_display])),
            staff=frozenset(staff),
        )


def findings(text: str, known: Known) -> list[str]:
    """What ``text`` seems to hold that may not be shared, as short descriptions (empty: none
    found). The matched text itself is never returned."""
    found = [label for label, pattern in _PATTERNS if pattern.search(text)]
    if _mentions_any(text, known.ids):
        found.append("the flag's patient, encounter or order id")
    if _mentions_any(text, known.reporter):
        found.append("the reporter's name")
    if _mentions_any(text, known.staff - known.reporter):
        found.append("a name from the staff directory")
    return found


async def staff_name_parts(session: AsyncSession) -> frozenset[str]:
    """The name parts of everyone in the staff directory the session may see."""
    return frozenset(name_parts(await staff_directory.all_names(session)))


async def check(session: AsyncSession, flag: Flag, text: str) -> None:
    """Refuse (422) a shareable reply on ``flag`` whose text seems to identify someone."""
    found = findings(text, Known.of(flag, await staff_name_parts(session)))
    if found:
        raise UnshareableReply(
            "A reply that may be shared in the transparency report must not identify a patient "
            f"or a clinician, and this one seems to contain {_listed(found)}. Reword it, or "
            "send it without 'may be shared'.",
            found=found,
        )


def _listed(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"
