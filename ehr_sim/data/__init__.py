"""Deterministic synthetic patients for the simulated EHR (FHIR R4 JSON resources)."""

from ehr_sim.data.generator import generate

__all__ = ["generate"]
