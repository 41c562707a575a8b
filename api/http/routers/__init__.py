"""The REST API's routers, one per domain, all under ``/api/v1``."""
