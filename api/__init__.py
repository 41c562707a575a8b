"""Entry points: the ``shangyun`` CLI (and later the REST API, dashboard and metrics)."""
