"""The gRPC edge: bootstrap, interceptors, servicers, status mapping."""

from itirp.server.bootstrap import RunningServer, serve

__all__ = ["RunningServer", "serve"]
