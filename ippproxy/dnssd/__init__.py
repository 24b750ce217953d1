"""DNS-SD (RFC 6763) announcements of the queues as IPP and IPPS printers, through
avahi-daemon: ``records.py`` what a queue announces (no I/O), ``avahi.py`` avahi's D-Bus API,
``advertiser.py`` the task that keeps the announcements equal to the queues."""

from ippproxy.dnssd.advertiser import Advertiser, AttributesOf

__all__ = ["Advertiser", "AttributesOf"]
