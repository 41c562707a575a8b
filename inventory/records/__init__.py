"""The plain records the collectors produce and the writers store: the survey's vocabulary and parsed
rows, agent reports (FORMATS.md §5), a cloud's and a cluster's facts, hosts' Ansible facts. Defined here,
at the bottom of the layers, so that ``inventory`` never imports ``collectors``."""

