"""The safety service: verified reports, safeguarding cases, shifts, moderation hours."""
