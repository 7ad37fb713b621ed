"""The web layer: FastAPI app factory, ``/api/v1`` routes, auth, HTML pages."""
