"""Documents to upload: a file path or a spooled document, read in blocks, never whole."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ippproxy.jobs.records import JobRecord
from ippproxy.jobs.spool import Spool

BLOCK = 256 * 1024


class Document(Protocol):
    async def size(self) -> int: ...

    def chunks(self) -> AsyncIterator[bytes]: ...


@dataclass(frozen=True)
class FileDocument:
    path: Path

    async def size(self) -> int:
        return (await asyncio.to_thread(self.path.stat)).st_size

    async def chunks(self) -> AsyncIterator[bytes]:
        f = await asyncio.to_thread(self.path.open, "rb")
        try:
            while block := await asyncio.to_thread(f.read, BLOCK):
                yield block
        finally:
            await asyncio.to_thread(f.close)


@dataclass(frozen=True)
class SpoolDocument:
    """A spooled document, read through ``Spool.open`` (O_NOFOLLOW, server-made names)."""

    spool: Spool
    name: str
    length: int

    async def size(self) -> int:
        return self.length

    async def chunks(self) -> AsyncIterator[bytes]:
        async for block in self.spool.open(self.name, BLOCK):
            yield block


async def missing_document(spool: Spool, rec: JobRecord) -> str | None:
    """None when every document of ``rec`` is in ``spool`` (a file, or a small document's
    copy in the job store), else why not.

    Nodes that share a database must share the spool too: a job claimed by a node that
    cannot read its document would otherwise be retried for ever."""
    for d in rec.documents:
        try:
            if await spool.has(d.spool_name):
                continue
        except (OSError, ValueError):
            pass
        return (f"document {d.number} (spool file {d.spool_name}) is not in the spool "
                f"{spool.root} of this node; nodes sharing a database must share one spool")
    return None


def as_document(doc: Path | Document) -> Document:
    return FileDocument(doc) if isinstance(doc, Path) else doc
