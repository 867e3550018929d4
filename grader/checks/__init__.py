"""Checks: small functions that run in the parent and return a Verdict."""
