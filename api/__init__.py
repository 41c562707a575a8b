"""Entry points at the top of the layers: the ``shangyun`` command line (``api.cli``) and the HTTP server
(``api.http``: REST API, dashboard, Prometheus metrics)."""
