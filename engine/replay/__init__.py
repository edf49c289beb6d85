"""Deterministic runs: the simulated crowd in simulated time, seeded, recorded and replayed (docs/decisions/032)."""
