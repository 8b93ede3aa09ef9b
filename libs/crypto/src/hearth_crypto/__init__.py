"""Hearth crypto library."""
