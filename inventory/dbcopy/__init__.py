"""Moving the whole record between databases: verified copies, backups and restores (``shangyun db``)."""
