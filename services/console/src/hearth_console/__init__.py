"""Hearth's safeguarding console: server-rendered pages for staff, over the services' gRPC."""
