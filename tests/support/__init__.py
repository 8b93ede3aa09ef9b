"""Helpers every test package shares: polling, gRPC statuses, raw stream reads, platforms.

One copy of each; a test package's own `support.py` holds only what is particular to it.
"""
