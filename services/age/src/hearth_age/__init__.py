"""Hearth age service: privacy-preserving age assurance."""
