"""Hearth runtime library."""
