"""Servicers: protobuf in, plain values to the application layer, protobuf out. Nothing else."""
