"""Benchmarks of the engine against the fake Telegram and LLM servers (see bench/README.md)."""
