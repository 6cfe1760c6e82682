"""Committed benchmarks: see bench/README.md."""
