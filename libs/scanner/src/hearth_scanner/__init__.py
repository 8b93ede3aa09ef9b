"""Hearth on-device safety scanner."""
