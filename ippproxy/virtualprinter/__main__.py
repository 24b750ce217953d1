"""``python -m ippproxy.virtualprinter``: the virtual printer alone (see control.py)."""

from ippproxy.virtualprinter.control import main

main()
