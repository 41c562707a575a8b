"""The planner as pure functions over plain data: a strategy per system, right-sizing, move groups,
waves that close rooms early with a proven bound, zombies, and the savings model; ``document`` writes
a plan as FORMATS.md §4."""
