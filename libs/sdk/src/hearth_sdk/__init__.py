"""Hearth sdk library."""
