"""The migration planner: strategies, right-sizing, move groups, waves that close rooms early, savings."""
