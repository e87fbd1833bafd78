"""ITIRP — Institutional Trading Infrastructure & Risk Platform."""

__version__ = "0.1.0"
NAME = "itirp"

__all__ = ["NAME", "__version__"]
