"""The transparency report: what was flagged, answered, decided and saved, with small cells
suppressed, for an organization or the system (docs/transparency.md)."""
