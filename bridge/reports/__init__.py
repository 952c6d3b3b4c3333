"""Proactive reports: the typed messages, the outbox's delivery to every sink, alerts."""
