"""The integrators' REST API (/api/v1)."""
