"""Generated protobuf and gRPC code for protos/."""
