"""Runs learner code in isolated worker processes forked from a preloaded server."""
