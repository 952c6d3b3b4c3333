"""The HTTP edge: the mount table, the guard, bodies, typed boundary, refusals and
problems, the webhooks' dispatch, sessions, health and the operators' endpoints."""
