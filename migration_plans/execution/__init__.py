"""Carrying out a plan's waves: runbooks per strategy, the actions they run through the drivers, the
crash-safe executor, functional verification and what a finished item changes in the inventory."""
