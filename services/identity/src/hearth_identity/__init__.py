"""Hearth identity service: accounts, devices and sessions."""
