"""Synthetic demo data (never real patients), for the demo, the browser tests and benchmarks."""
