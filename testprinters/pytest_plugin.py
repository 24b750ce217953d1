"""pytest fixtures for real printers: ippeveprinter, a private cupsd, the virtual printer.

Register with ``pytest_plugins = ["testprinters.pytest_plugin"]`` in a conftest.

* ``ippeveprinter``: function-scoped factory, ``ippeveprinter(**EvePrinter kwargs)``
  starts a fresh printer; every printer it made is stopped at teardown (also on
  failure). Use it when a test kills, restarts or fills the printer.
* ``ippeveprinter_session``: session-scoped factory that shares one printer per
  distinct set of options across the whole run (cheap for read-only tests).
* ``private_cupsd``: a fresh cupsd per test (``.add_queue``, ``.lp``).
* ``virtual_printer``: async factory for our own ``VirtualPrinter`` on a free
  port, closed at teardown.
All children share one private D-Bus per session.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
import pytest_asyncio

from ippproxy.virtualprinter import VirtualPrinter
from testprinters.cupsd import PrivateCupsd
from testprinters.dbus import PrivateDBus
from testprinters.eve import EvePrinter

EveFactory = Callable[..., EvePrinter]
VirtualFactory = Callable[..., Awaitable[VirtualPrinter]]


@pytest.fixture(scope="session")
def private_dbus() -> Iterator[PrivateDBus]:
    bus = PrivateDBus().start()
    try:
        yield bus
    finally:
        bus.stop()


@pytest.fixture
def ippeveprinter(private_dbus: PrivateDBus) -> Iterator[EveFactory]:
    made: list[EvePrinter] = []

    def factory(**kwargs: Any) -> EvePrinter:
        kwargs.setdefault("dbus", private_dbus)
        printer = EvePrinter(**kwargs)
        made.append(printer)
        return printer.start()

    try:
        yield factory
    finally:
        for printer in made:
            printer.stop()


@pytest.fixture(scope="session")
def ippeveprinter_session(private_dbus: PrivateDBus) -> Iterator[EveFactory]:
    shared: dict[str, EvePrinter] = {}

    def factory(**kwargs: Any) -> EvePrinter:
        key = repr(sorted(kwargs.items()))
        if key not in shared or not shared[key].is_running():
            kwargs.setdefault("dbus", private_dbus)
            shared[key] = EvePrinter(**kwargs).start()
        return shared[key]

    try:
        yield factory
    finally:
        for printer in shared.values():
            printer.stop()


@pytest.fixture
def private_cupsd(private_dbus: PrivateDBus) -> Iterator[PrivateCupsd]:
    cupsd = PrivateCupsd(dbus=private_dbus).start()
    try:
        yield cupsd
    finally:
        cupsd.stop()


@pytest_asyncio.fixture
async def virtual_printer() -> AsyncIterator[VirtualFactory]:
    made: list[VirtualPrinter] = []

    async def factory(**kwargs: Any) -> VirtualPrinter:
        printer = VirtualPrinter(**kwargs)
        made.append(printer)
        await printer.start()
        return printer

    try:
        yield factory
    finally:
        for printer in made:
            await printer.close()
