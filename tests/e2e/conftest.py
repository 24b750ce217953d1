"""Fixtures of the end-to-end tests: the real ``ippproxy`` command as a subprocess.

The helper lives in ``tests/support/server.py``; ``tests/`` is put on sys.path here so that
it imports as ``support.server`` whatever pytest's rootdir handling does.
"""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))
