"""The HTTP server: the FastAPI app, authentication and roles, the error handler, metrics, request ids,
the routers of ``/api/v1`` and the dashboard's static files."""
