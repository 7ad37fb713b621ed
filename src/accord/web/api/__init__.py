"""The ``/api/v1`` routers (HTTP ↔ service only; access rules live in :mod:`accord.service`)."""
