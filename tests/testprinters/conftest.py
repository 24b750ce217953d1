"""Fixtures for the test printers' own tests."""

from testprinters.pytest_plugin import (  # noqa: F401  (fixtures, until the root conftest has them)
    ippeveprinter,
    ippeveprinter_session,
    private_cupsd,
    private_dbus,
    virtual_printer,
)
