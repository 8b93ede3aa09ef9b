"""Hearth proto library."""
