"""Flags, their follow-up and the audit trail as FHIR R4 (4.0.1) resources.

The registry's tables stay the source of truth; this package is a generated view of them
(DESIGN.md, "FHIR mapping"). Every resource is built as a ``fhir.resources.R4B`` model, so what
leaves validates. Which reporter may be named is asked of :mod:`app.flags.anonymity`, never
decided here. The mapping tables are in ``docs/fhir.md``.
"""
