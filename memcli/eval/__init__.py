"""Benchmarks of strategies on public data (LoCoMo)."""
