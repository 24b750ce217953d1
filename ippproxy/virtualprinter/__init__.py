"""ippproxy.virtualprinter: the built-in virtual IPP Everywhere printer.

The embedded default prints to it (``destination = "builtin"``), the demo and the tests
use it as a printer. ``python -m ippproxy.virtualprinter --port 8632`` runs it alone.
"""

from ippproxy.virtualprinter.printer import VirtualPrinter

__all__ = ["VirtualPrinter"]
