"""Directory errors: ``str(err)`` is a sentence an admin reads (the sync's reason)."""

from __future__ import annotations


class DirectoryError(Exception):
    """The directory could not be read (down, slow, refused the bind, bad TLS)."""
