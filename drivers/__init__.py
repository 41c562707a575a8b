"""Thin adapters that carry out one real thing each (ansible-runner, openstacksdk, kubernetes). Not built yet."""
