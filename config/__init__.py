"""Deployment configuration: settings from the environment, gunicorn config."""
