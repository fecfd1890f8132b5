"""Every rule, case by case: the low-value case, each exemption, window edges, age and sex
edges, excluded settings, code drift, and ordinary orders no rule may judge.

The cases are built from one hand-written row per rule (the order, the patient, one fact for
each "low-value when" clause) and from the rule's own data (its exemptions, windows, limits,
dated codes). So that a rule losing an exemption or a window cannot pass unnoticed, the number
of each is also written here by hand and checked against the data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest

from lowvalue import (
    CodeEntry,
    Decision,
    Outcome,
    Rule,
    StepResult,
    case_from_resources,
    default_catalog,
    evaluate,
)
from lowvalue.catalog import Clause, DiagnosisClause, Window
from tests.lowvalue.factories import (
    ON,
    all_history,
    condition,
    encounter,
    medication_request,
    procedure,
    service_request,
)

Code = tuple[str, str]  # (system, code)


@dataclass(frozen=True)
class Row:
    """What the reference table says makes the rule's order low-value, by hand."""

    order: Code
    medication: bool = False
    age: int = 70
    sex: str = "male"
    when: dict[str, Code] = field(default_factory=dict)  # clause id -> a code for its fact
    exemptions: int = 0  # how many "unless" clauses the rule has
    windows: int = 0  # how many clauses (when + unless) have a window or first_within_days


ROWS: dict[str, Row] = {
    "antibiotics-acute-bronchitis": Row(
        ("rxnorm", "308191"),
        medication=True,
        when={"acute-bronchitis": ("icd10cm", "J20.9")},
        exemptions=3,
        windows=4,
    ),
    "antibiotics-viral-uri": Row(
        ("atc", "J01CA04"),
        medication=True,
        when={"upper-respiratory-infection": ("icd10cm", "J06.9")},
        exemptions=3,
        windows=4,
    ),
    "benzodiazepines-older-adults": Row(
        ("rxnorm", "197901"), medication=True, age=70, exemptions=3
    ),
    "branded-drug-with-generic": Row(("rxnorm", "214003"), medication=True),
    "carotid-imaging-without-symptoms": Row(("cpt", "93880"), exemptions=3, windows=1),
    "cervical-screening-over-65": Row(
        ("cpt", "88142"),
        age=70,
        sex="female",
        when={"prior-screening": ("cpt", "88142")},
        exemptions=1,
        windows=1,
    ),
    "dxa-repeat-within-two-years": Row(
        ("cpt", "77080"),
        sex="female",
        when={"prior-dxa": ("cpt", "77080")},
        exemptions=3,
        windows=2,
    ),
    "dxa-women-under-65": Row(("cpt", "77080"), age=55, sex="female", exemptions=4, windows=1),
    "headache-eeg": Row(
        ("cpt", "95816"), when={"headache": ("icd10cm", "G43.909")}, exemptions=1, windows=1
    ),
    "headache-head-imaging": Row(
        ("cpt", "70450"), when={"headache": ("icd10cm", "G43.909")}, exemptions=7, windows=4
    ),
    "homocysteine-testing": Row(("cpt", "83090"), exemptions=1),
    "hypercoagulability-testing-provoked-vte": Row(
        ("cpt", "81240"),
        when={"recent-vte": ("icd10cm", "I82.401"), "provoking-cause": ("icd10cm", "Z79.3")},
        windows=2,
    ),
    "knee-arthroscopy-osteoarthritis": Row(
        ("cpt", "29881"), when={"knee-osteoarthritis": ("icd10cm", "M17.11")}, exemptions=1
    ),
    "low-back-pain-imaging": Row(
        ("cpt", "72148"),
        when={"early-low-back-pain": ("icd10cm", "M47.816")},
        exemptions=8,
        windows=8,
    ),
    "preop-chest-xray": Row(
        ("cpt", "71046"),
        when={"low-risk-surgery-booked": ("cpt", "66984")},
        exemptions=1,
        windows=2,
    ),
    "preop-echocardiogram": Row(
        ("cpt", "93306"),
        when={"low-risk-surgery-booked": ("cpt", "66984")},
        exemptions=1,
        windows=2,
    ),
    "preop-routine-labs": Row(
        ("cpt", "80053"),
        when={"low-risk-surgery-booked": ("cpt", "66984")},
        exemptions=4,
        windows=2,
    ),
    "preop-spirometry": Row(
        ("cpt", "94010"),
        when={"low-risk-surgery-booked": ("cpt", "66984")},
        exemptions=1,
        windows=2,
    ),
    "preop-stress-test": Row(
        ("cpt", "93015"),
        when={"low-risk-surgery-booked": ("cpt", "66984")},
        exemptions=1,
        windows=2,
    ),
    "psa-screening-older-men": Row(("cpt", "84153"), age=76, exemptions=1),
    "pth-ckd-early": Row(
        ("cpt", "83970"), when={"ckd-stage-1-3": ("icd10cm", "N18.31")}, exemptions=2
    ),
    "sinusitis-ct": Row(
        ("cpt", "70486"),
        when={"acute-sinusitis": ("icd10cm", "J01.90")},
        exemptions=5,
        windows=4,
    ),
    "spinal-injection-low-back-pain": Row(
        ("cpt", "62323"), when={"low-back-pain": ("icd10cm", "M47.816")}, exemptions=1
    ),
    "syncope-head-imaging": Row(
        ("cpt", "70551"), when={"syncope": ("icd10cm", "R55")}, exemptions=4, windows=3
    ),
    "t3-testing-hypothyroidism": Row(
        ("cpt", "84481"), when={"hypothyroidism": ("icd10cm", "E03.9")}, windows=1
    ),
    "vertebroplasty-osteoporotic-fracture": Row(
        ("cpt", "22513"),
        when={"osteoporotic-vertebral-fracture": ("icd10cm", "M80.08XA")},
        exemptions=1,
    ),
    "vitamin-d-testing": Row(("cpt", "82306"), exemptions=3, windows=2),
}

RULES = {rule.id: rule for rule in default_catalog().rules}


def entry_code(entry: CodeEntry) -> str:
    """A code the entry holds, as written in the data (a range's low end, a prefix itself)."""
    return entry.code or entry.prefix or (entry.range or "").partition("-")[0]


def first_code(clause: Clause) -> Code:
    entry = clause.codes.codes[0]
    return entry.system, entry_code(entry)


def inside(window: Window | None, on: date) -> date:
    """The latest day of the window (the evaluation date for an open 'ever')."""
    return on + timedelta(days=window.to_days if window else 0)


@dataclass
class Facts:
    conditions: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)

    def add(self, clause: Clause, code: Code, when: date, *, active: bool = True) -> None:
        """A resource that makes ``clause`` hold on ``when`` (for a diagnosis: from then on
        while active, that day only when resolved)."""
        name = f"{clause.id}-{code[1]}-{when}-{active}".replace(".", "")
        if isinstance(clause, DiagnosisClause):
            self.conditions.append(condition(code[1], onset=when, id=name, active=active))
            return
        kind = clause.resource_types[0]
        if kind == "ServiceRequest":
            self.history.append(
                service_request(*code, id=name, on=when, occurrenceDateTime=when.isoformat())
            )
        elif kind == "Procedure":
            self.history.append(procedure(*code, on=when, id=name))
        else:
            self.history.append(medication_request(*code, on=when, id=name))


def when_clauses(rule: Rule) -> tuple[Clause, ...]:
    return rule.parts(None).when


def unless_clauses(rule: Rule) -> tuple[Clause, ...]:
    return rule.parts(None).unless


def build(
    rule_id: str,
    *,
    on: date = ON,
    order: Code | None = None,
    birth: date | None = None,
    age: int | None = None,
    sex: str | None = None,
    klass: str = "AMB",
    skip_when: str | None = None,
    when_code: Code | None = None,
    extra: Facts | None = None,
) -> Decision:
    """The rule's decision on its low-value case, with one thing changed."""
    row, rule = ROWS[rule_id], RULES[rule_id]
    system, code = order or row.order
    draft = (
        medication_request(system, code, on=on)
        if row.medication
        else service_request(system, code, on=on)
    )
    facts = Facts()
    for clause in when_clauses(rule):
        if clause.id != skip_when:
            facts.add(clause, row.when[clause.id], inside(clause.window, on))
    if when_code is not None:
        facts.add(when_clauses(rule)[0], when_code, on)
    if extra is not None:
        facts.conditions += extra.conditions
        facts.history += extra.history
    years = row.age if age is None else age
    born = birth or date(on.year - years, 1, 1)
    case = case_from_resources(
        patient={
            "resourceType": "Patient",
            "id": "p1",
            "birthDate": born.isoformat(),
            "gender": sex or row.sex,
        },
        orders=[draft],
        encounter=encounter(klass=klass, start=on),
        conditions=facts.conditions,
        history=facts.history,
        searched=all_history(),
    )
    (found,) = [d for d in evaluate(case) if d.rule_id == rule_id]
    return found


def why(found: Decision) -> str:
    return "\n".join(f"{step.clause}: {step.result.value}; {step.detail}" for step in found.steps)


# --- the table is complete and honest ---------------------------------------------------


def test_every_rule_in_the_catalog_has_a_row():
    assert sorted(RULES) == sorted(ROWS)


@pytest.mark.parametrize("rule_id", sorted(ROWS))
def test_the_rule_has_the_exemptions_and_windows_the_table_expects(rule_id):
    rule, row = RULES[rule_id], ROWS[rule_id]
    clauses = (*when_clauses(rule), *unless_clauses(rule))
    windowed = [
        c
        for c in clauses
        if c.window is not None or getattr(c, "first_within_days", None) is not None
    ]

    assert len(unless_clauses(rule)) == row.exemptions
    assert len(windowed) == row.windows
    assert sorted(row.when) == sorted(c.id for c in when_clauses(rule))


# --- positives ------------------------------------------------------------------------------


@pytest.mark.parametrize("rule_id", sorted(ROWS))
def test_the_rule_finds_its_low_value_case(rule_id):
    found = build(rule_id)

    assert found.outcome is Outcome.LOW_VALUE, why(found)


# --- each exemption -------------------------------------------------------------------------

EXEMPTIONS = [
    pytest.param(rule_id, clause.id, id=f"{rule_id}:{clause.id}")
    for rule_id in sorted(ROWS)
    for clause in unless_clauses(RULES[rule_id])
]


def test_the_exemption_cases_cover_every_exemption_in_the_table():
    assert len(EXEMPTIONS) == sum(row.exemptions for row in ROWS.values()) == 63


@pytest.mark.parametrize(("rule_id", "clause_id"), EXEMPTIONS)
def test_each_exemption_makes_the_order_not_low_value(rule_id, clause_id):
    (clause,) = [c for c in unless_clauses(RULES[rule_id]) if c.id == clause_id]
    facts = Facts()
    facts.add(clause, first_code(clause), inside(clause.window, ON))

    found = build(rule_id, extra=facts)

    assert found.outcome is Outcome.NOT_LOW_VALUE, why(found)
    assert found.exempted_by == clause_id


# --- window edges ---------------------------------------------------------------------------


def edges(clause: Clause) -> list[tuple[str, int, bool]]:
    """(name, day offset, inside?) one day inside and one outside each end of the window;
    an end at the evaluation date has only its inside day (nothing after it is read)."""
    if isinstance(clause, DiagnosisClause) and clause.first_within_days is not None:
        days = clause.first_within_days
        return [
            ("first-diagnosis-inside", -days, True),
            ("first-diagnosis-outside", -days - 1, False),
        ]
    assert clause.window is not None
    low, high = clause.window.from_days, clause.window.to_days
    found = [("start-inside", low, True), ("start-outside", low - 1, False)]
    if high != 0:
        found += [("end-inside", high, True), ("end-outside", high + 1, False)]
    return found


WINDOW_EDGES = [
    pytest.param(rule_id, part, clause.id, offset, within, id=f"{rule_id}:{clause.id}:{name}")
    for rule_id in sorted(ROWS)
    for part, clauses in (
        ("when", when_clauses(RULES[rule_id])),
        ("unless", unless_clauses(RULES[rule_id])),
    )
    for clause in clauses
    if clause.window is not None or getattr(clause, "first_within_days", None) is not None
    for name, offset, within in edges(clause)
]


def test_the_window_edge_cases_cover_every_windowed_clause():
    assert {(p.values[0], p.values[2]) for p in WINDOW_EDGES} == {
        (rule_id, c.id)
        for rule_id, rule in RULES.items()
        for c in (*when_clauses(rule), *unless_clauses(rule))
        if c.window is not None or getattr(c, "first_within_days", None) is not None
    }
    assert len({(p.values[0], p.values[2]) for p in WINDOW_EDGES}) == sum(
        row.windows for row in ROWS.values()
    )


@pytest.mark.parametrize(("rule_id", "part", "clause_id", "offset", "within"), WINDOW_EDGES)
def test_window_edges_one_day_inside_and_one_day_outside(rule_id, part, clause_id, offset, within):
    rule = RULES[rule_id]
    clauses = when_clauses(rule) if part == "when" else unless_clauses(rule)
    (clause,) = [c for c in clauses if c.id == clause_id]
    facts = Facts()
    day = ON + timedelta(days=offset)
    if part == "when":
        code = ROWS[rule_id].when[clause_id]
        # A first diagnosis stays active up to the order; any other fact is that day only.
        facts.add(clause, code, day, active=getattr(clause, "first_within_days", None) is not None)
        found = build(rule_id, skip_when=clause_id, extra=facts)
        expected = Outcome.LOW_VALUE if within else Outcome.NOT_LOW_VALUE
    else:
        facts.add(clause, first_code(clause), day, active=False)
        found = build(rule_id, extra=facts)
        expected = Outcome.NOT_LOW_VALUE if within else Outcome.LOW_VALUE

    assert found.outcome is expected, why(found)


# --- age and sex ----------------------------------------------------------------------------


def birthday(years: int, *, days_later: int = 0) -> date:
    """Born ``years`` before ON to the day (so that age is reached on ON), moved later."""
    return ON.replace(year=ON.year - years) + timedelta(days=days_later)


def age_edges() -> list[Any]:
    cases = []
    for rule_id in sorted(ROWS):
        limits = RULES[rule_id].parts(None).patient
        days = []
        if limits.min_age is not None:
            low = limits.min_age
            days += [
                (f"turns-{low}-that-day", birthday(low), True),
                (f"turns-{low}-next-day", birthday(low, days_later=1), False),
            ]
        if limits.max_age is not None:
            high = limits.max_age
            days += [
                (f"{high}-until-the-day-before", birthday(high + 1, days_later=1), True),
                (f"turns-{high + 1}-that-day", birthday(high + 1), False),
            ]
        cases += [
            pytest.param(rule_id, birth, within, id=f"{rule_id}:{name}")
            for name, birth, within in days
        ]
    return cases


AGE_EDGES = age_edges()

SEX_EDGES = [
    pytest.param(rule_id, limits.sex, id=f"{rule_id}:not-{limits.sex}")
    for rule_id in sorted(ROWS)
    if (limits := RULES[rule_id].parts(None).patient).sex is not None
]


def test_the_age_and_sex_cases_cover_every_limited_rule():
    assert sorted({str(p.values[0]) for p in AGE_EDGES}) == [
        "benzodiazepines-older-adults",
        "cervical-screening-over-65",
        "dxa-women-under-65",
        "psa-screening-older-men",
    ]
    assert len(AGE_EDGES) == 10
    assert sorted(str(p.values[0]) for p in SEX_EDGES) == [
        "cervical-screening-over-65",
        "dxa-women-under-65",
        "psa-screening-older-men",
    ]


@pytest.mark.parametrize(("rule_id", "birth", "within"), AGE_EDGES)
def test_age_edges_counted_to_the_day(rule_id, birth, within):
    found = build(rule_id, birth=birth)

    assert found.outcome is (Outcome.LOW_VALUE if within else Outcome.NOT_LOW_VALUE), why(found)


@pytest.mark.parametrize(("rule_id", "sex"), SEX_EDGES)
def test_the_other_sex_is_not_low_value(rule_id, sex):
    found = build(rule_id, sex="female" if sex == "male" else "male")

    assert found.outcome is Outcome.NOT_LOW_VALUE, why(found)
    assert [s.result for s in found.steps if s.clause == "sex"] == [StepResult.NOT_MATCHED]


# --- excluded settings ----------------------------------------------------------------------

SETTINGS = [
    pytest.param(rule_id, klass, id=f"{rule_id}:{klass}")
    for rule_id in sorted(ROWS)
    for klass in RULES[rule_id].excluded_settings
]


def test_the_setting_cases_cover_the_rules_with_excluded_settings():
    assert len(SETTINGS) == 5 * 5 + 2 * 3  # five pre-op rules, two antibiotic rules


@pytest.mark.parametrize(("rule_id", "klass"), SETTINGS)
def test_an_excluded_setting_makes_the_order_not_low_value(rule_id, klass):
    found = build(rule_id, klass=klass)

    assert found.outcome is Outcome.NOT_LOW_VALUE, why(found)
    assert [s.result for s in found.steps if s.part == "setting"] == [StepResult.APPLIED]


# --- code drift -----------------------------------------------------------------------------


def order_drift() -> list[Any]:
    cases = []
    for rule_id in sorted(ROWS):
        seen: set[tuple[date | None, date | None]] = set()
        for entry in RULES[rule_id].order.codes.codes:
            dates = (entry.valid_from, entry.valid_until)
            if dates == (None, None) or dates in seen:
                continue
            seen.add(dates)
            code = (entry.system, entry_code(entry))
            if entry.valid_until is not None:
                edge = entry.valid_until
                days = [("last-day", edge, True), ("day-after", edge + timedelta(days=1), False)]
            else:
                assert entry.valid_from is not None
                edge = entry.valid_from
                days = [("first-day", edge, True), ("day-before", edge - timedelta(days=1), False)]
            cases += [
                pytest.param(rule_id, code, day, within, id=f"{rule_id}:{code[1]}:{name}")
                for name, day, within in days
            ]
    return cases


ORDER_DRIFT = order_drift()


def test_the_order_drift_cases_cover_every_dated_order_code():
    assert sorted({str(p.values[0]) for p in ORDER_DRIFT}) == [
        "branded-drug-with-generic",
        "headache-eeg",
        "preop-chest-xray",
        "spinal-injection-low-back-pain",
        "vertebroplasty-osteoporotic-fracture",
    ]
    assert len(ORDER_DRIFT) == 2 * 9  # two branded-drug dates, two each for three rules, one EEG


@pytest.mark.parametrize(("rule_id", "code", "day", "within"), ORDER_DRIFT)
def test_a_dated_order_code_counts_only_while_it_was_in_force(rule_id, code, day, within):
    found = build(rule_id, on=day, order=code)

    assert found.outcome is (Outcome.LOW_VALUE if within else Outcome.NOT_LOW_VALUE), why(found)
    if not within:
        assert "not in force" in found.steps[0].detail


# A retired diagnosis code read on a condition dated while it was in force, and not after.
DIAGNOSIS_DRIFT = [
    pytest.param(rule_id, code, day, within, id=f"{rule_id}:{code}:{name}")
    for rule_id, code, edge, retired in (
        ("low-back-pain-imaging", "M54.5", date(2021, 9, 30), True),
        ("low-back-pain-imaging", "M54.50", date(2021, 10, 1), False),
        ("spinal-injection-low-back-pain", "M54.5", date(2021, 9, 30), True),
        ("headache-head-imaging", "R51", date(2020, 9, 30), True),
        ("headache-head-imaging", "R51.9", date(2020, 10, 1), False),
        ("headache-eeg", "R51", date(2020, 9, 30), True),
    )
    for name, day, within in (
        [("last-day", edge, True), ("day-after", edge + timedelta(days=1), False)]
        if retired
        else [("first-day", edge, True), ("day-before", edge - timedelta(days=1), False)]
    )
]


@pytest.mark.parametrize(("rule_id", "code", "day", "within"), DIAGNOSIS_DRIFT)
def test_a_dated_diagnosis_code_counts_only_while_it_was_in_force(rule_id, code, day, within):
    row = ROWS[rule_id]
    first = when_clauses(RULES[rule_id])[0]
    order = row.order
    if rule_id == "spinal-injection-low-back-pain" and day.year < 2017:
        order = ("cpt", "62311")

    found = build(rule_id, on=day, order=order, skip_when=first.id, when_code=("icd10cm", code))

    assert found.outcome is (Outcome.LOW_VALUE if within else Outcome.NOT_LOW_VALUE), why(found)


# --- ordinary orders ------------------------------------------------------------------------

ORDINARY = [
    pytest.param(False, ("cpt", "99213"), id="office-visit"),
    pytest.param(False, ("cpt", "80061"), id="lipid-panel"),
    pytest.param(False, ("cpt", "83036"), id="hba1c"),
    pytest.param(False, ("cpt", "84443"), id="tsh"),
    pytest.param(False, ("cpt", "81001"), id="urinalysis"),
    pytest.param(False, ("cpt", "93000"), id="ecg"),
    pytest.param(False, ("cpt", "77067"), id="screening-mammogram"),
    pytest.param(False, ("cpt", "45378"), id="colonoscopy"),
    pytest.param(False, ("cpt", "90686"), id="flu-vaccine"),
    # RxNorm clinical drugs from the VSAC value sets stored in canvas-medical/canvas-plugins.
    pytest.param(True, ("rxnorm", "979492"), id="losartan-50mg"),
    pytest.param(True, ("rxnorm", "313988"), id="furosemide-40mg"),
    pytest.param(True, ("rxnorm", "310798"), id="hydrochlorothiazide-25mg"),
    pytest.param(True, ("rxnorm", "866924"), id="metoprolol-tartrate-25mg"),
    # The generic that the branded-drug rule suggests is itself an ordinary order.
    pytest.param(True, ("rxnorm", "308047"), id="generic-alprazolam-under-65"),
]


@pytest.mark.parametrize(("medication", "code"), ORDINARY)
def test_an_ordinary_order_is_judged_by_no_rule(medication, code):
    draft = medication_request(*code) if medication else service_request(*code)
    case = case_from_resources(
        patient={
            "resourceType": "Patient",
            "id": "p1",
            "birthDate": "1976-03-02",
            "gender": "female",
        },
        orders=[draft],
        encounter=encounter(),
        conditions=[condition("I10"), condition("E11.9"), condition("J06.9")],
        searched=all_history(),
    )

    decisions = evaluate(case)

    assert len(decisions) == len(RULES)
    judged = [d.rule_id for d in decisions if d.applicable]
    if code == ("rxnorm", "308047"):
        # A benzodiazepine: the older-adults rule reads it, and leaves a 50-year-old alone.
        assert judged == ["benzodiazepines-older-adults"]
        assert all(d.outcome is Outcome.NOT_LOW_VALUE for d in decisions)
    else:
        assert judged == []
