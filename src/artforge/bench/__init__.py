"""Benchmarks a user can run from the CLI (``artforge bench ...``)."""
