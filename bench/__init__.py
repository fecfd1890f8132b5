"""Benchmarks, run on demand (``python -m bench.registry``); not part of the test suite."""
