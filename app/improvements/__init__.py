"""Improvement work: the organization's response to flags, and whether it worked (issue 17)."""
