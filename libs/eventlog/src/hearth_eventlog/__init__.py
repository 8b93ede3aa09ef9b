"""Hearth eventlog library."""
