"""Hearth messaging service: prekey directory, conversations, E2EE relay."""
