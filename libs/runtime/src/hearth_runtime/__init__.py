"""Hearth service runtime: configuration, gRPC server, auth, telemetry, embedded NATS."""
