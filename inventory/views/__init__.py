"""Read views of the inventory: the survey-shaped view, list queries, measured use, exports, a system's
archive and the Ansible inventory."""
