"""The built-in virtual printer of ``destination = "builtin"`` queues, started with the
server from its ``[virtual_printer]`` section."""

from __future__ import annotations

import logging
from pathlib import Path

from ippproxy.config import VirtualPrinterConfig
from ippproxy.virtualprinter.printer import VirtualPrinter

log = logging.getLogger(__name__)


async def start_builtin(vp: VirtualPrinterConfig, spool: Path) -> VirtualPrinter:
    """Start the printer on ``vp.listen:vp.port`` (no control port); its next job-id and the
    documents it keeps live in ``<spool>/virtual``, so that job-ids continue after a
    restart (record.py). The caller closes it."""
    printer = VirtualPrinter(host=vp.listen, port=vp.port, control_port=None,
                             keep_documents=vp.keep_documents, spool_dir=spool / "virtual",
                             color=vp.color, duplex=vp.duplex)
    await printer.start()
    log.info("built-in virtual printer at %s", printer.uri)
    return printer
