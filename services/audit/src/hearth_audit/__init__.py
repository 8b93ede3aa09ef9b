"""Hearth audit service: follows every service's stream into an audit log."""
