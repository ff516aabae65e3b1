"""Benchmarks that print JSON: ``python -m bench.ingest`` (see bench/README.md)."""
