"""ippproxy: an IPP print-management server."""

__version__ = "0.1.0"
