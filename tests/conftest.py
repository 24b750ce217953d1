"""Root test configuration. Package-specific fixtures live in tests/<package>/conftest.py.

The real printers (ippeveprinter with its private D-Bus, a private cupsd, the virtual printer)
come from ``testprinters.pytest_plugin``; the throwaway PostgreSQL cluster from
``tests/support/postgres.py``.
"""

pytest_plugins = ["testprinters.pytest_plugin"]
