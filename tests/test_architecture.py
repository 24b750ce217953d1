"""docs/architecture.md stays true: the walk of one Print-Job names each module once, every
module and function it names exists, and a real Print-Job (accounting on, one rule, the
built-in printer, over a real socket) first calls them in the order the walk gives.

The order is observed with a profile hook on every thread (``sys.setprofile`` and
``threading.setprofile``), armed only for the one job, recording the first call of each
function defined under ``ippproxy/``.
"""

from __future__ import annotations

import asyncio
import importlib
import itertools
import re
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from ippproxy.app import build_app
from ippproxy.config import (
    AccountingConfig,
    Config,
    CostModelConfig,
    ForwardingConfig,
    RuleConfig,
    ServerConfig,
    StorageConfig,
    VirtualPrinterConfig,
)
from ippproxy.ipp import Attribute, Group, Message, Operation, Tag, decode, encode
from testprinters.ports import free_port

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "architecture.md"
STEP = re.compile(r"^\d+\. `(ippproxy/[\w/]+\.py)` `([\w.]+)`", re.MULTILINE)
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
       b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
       b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")

Step = tuple[str, str]          # (path relative to the repository, qualified name)


def walk() -> list[Step]:
    return STEP.findall(DOC.read_text())


def test_the_walk_names_each_module_once_and_each_exists() -> None:
    steps = walk()
    assert len(steps) >= 30, "the walk in docs/architecture.md was not found"
    modules = [path for path, _ in steps]
    assert len(modules) == len(set(modules)), "a module is named twice in the walk"
    for path, qualname in steps:
        assert (ROOT / path).is_file(), path
        target: Any = importlib.import_module(path[:-3].replace("/", "."))
        for part in qualname.split("."):
            target = getattr(target, part, None)
            assert target is not None, f"{path} has no {qualname}"
        assert callable(target), f"{path} {qualname} is not a function"


class FirstCalls:
    """The first call of every function defined under ippproxy/, in order, on any thread."""

    def __init__(self) -> None:
        self.prefix = str(ROOT / "ippproxy") + "/"
        self.armed = False
        self.order: list[Step] = []
        self._seen: set[Step] = set()
        self._lock = threading.Lock()

    def __call__(self, frame: FrameType, event: str, arg: object) -> None:
        if event != "call" or not self.armed:
            return
        code = frame.f_code
        if not code.co_filename.startswith(self.prefix):
            return
        step = (code.co_filename[len(str(ROOT)) + 1:], code.co_qualname)
        with self._lock:
            if step not in self._seen:
                self._seen.add(step)
                self.order.append(step)

    def steps(self) -> set[Step]:
        with self._lock:
            return set(self._seen)

    @staticmethod
    def install(hook: Any) -> Iterator[None]:
        sys.setprofile(hook)
        threading.setprofile(hook)
        try:
            yield
        finally:
            sys.setprofile(None)
            threading.setprofile(None)


def config(tmp: Path) -> Config:
    return Config(
        server=ServerConfig(listen="127.0.0.1", port=free_port()),
        storage=StorageConfig(database=f"sqlite:///{tmp}/ippproxy.db", spool=str(tmp / "spool")),
        forwarding=ForwardingConfig(poll_interval=0.1, connect_timeout=2.0),
        virtual_printer=VirtualPrinterConfig(listen="127.0.0.1", port=free_port()),
        accounting=AccountingConfig(enabled=True, initial_balance="10",
                                    default_cost_model="standard"),
        cost_models=(CostModelConfig("standard", mono="0.05", color="0.20"),),
        rules=(RuleConfig(type="max-copies", limit=50),))


def request(uri: str, op: int, *extra: Attribute) -> bytes:
    attrs = (Attribute.single("attributes-charset", Tag.CHARSET, "utf-8"),
             Attribute.single("attributes-natural-language", Tag.NATURAL_LANGUAGE, "en"),
             Attribute.single("printer-uri", Tag.URI, uri),
             Attribute.single("requesting-user-name", Tag.NAME, "alice"), *extra)
    return encode(Message((2, 0), op, 1, (Group(Tag.OPERATION_ATTRIBUTES, attrs),)))


async def print_one_job(cfg: Config, calls: FirstCalls) -> None:
    runner = web.AppRunner(build_app(cfg), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, cfg.server.listen, cfg.server.port).start()
        url = f"http://{cfg.server.listen}:{cfg.server.port}/printers/default"
        uri = f"ipp://{cfg.server.listen}:{cfg.server.port}/printers/default"
        headers = {"Content-Type": "application/ipp"}
        body = request(uri, Operation.PRINT_JOB, Attribute.single(
            "document-format", Tag.MIME_MEDIA_TYPE, "application/pdf")) + PDF
        async with aiohttp.ClientSession() as session:
            calls.armed = True
            async with session.post(url, data=body, headers=headers) as r:
                answer = decode(await r.read())
            job_id = answer.get(Tag.JOB_ATTRIBUTES, "job-id")
            assert answer.code == 0 and job_id is not None, answer
            # The forwarder, the printer and the settler go on: wait, armed, for the
            # walk's last step (settlement follows the printer's completion).
            last = walk()[-1]
            async with asyncio.timeout(60):
                while last not in calls.steps():
                    await asyncio.sleep(0.05)
            calls.armed = False
    finally:
        await runner.cleanup()


@pytest.fixture
def first_calls() -> Iterator[FirstCalls]:
    calls = FirstCalls()
    for _ in FirstCalls.install(calls):
        yield calls


async def test_one_print_job_follows_the_walk(tmp_path: Path, first_calls: FirstCalls) -> None:
    await print_one_job(config(tmp_path), first_calls)
    position = {step: i for i, step in enumerate(first_calls.order)}
    missing = [s for s in walk() if s not in position]
    assert not missing, f"named in the walk but not called on the Print-Job path: {missing}"
    steps = walk()
    out_of_order = [f"{a} before {b}" for a, b in itertools.pairwise(steps)
                    if position[b] < position[a]]
    assert not out_of_order, "the walk's order differs from the calls': " + "; ".join(
        out_of_order)
