"""The runtime: background services with explicit state, under one supervisor."""
