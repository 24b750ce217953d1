"""``python -m ippproxy.virtualprinter``: the virtual printer alone, with its control port
(control.py)."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from ippproxy.virtualprinter.printer import VirtualPrinter


async def _serve(args: argparse.Namespace) -> None:
    printer = VirtualPrinter(host=args.host, port=args.port, control_port=args.control_port,
                             keep_documents=args.keep, name=args.name,
                             spool_dir=Path(args.spool) if args.spool else None)
    await printer.start()
    print(f"virtual printer at {printer.uri}, control at {printer.control_url}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await printer.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ippproxy.virtualprinter",
                                     description="ippproxy's virtual IPP Everywhere printer")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8632)
    parser.add_argument("--control-port", type=int, default=0)
    parser.add_argument("--name", default="Virtual Printer")
    parser.add_argument("--keep", action="store_true", help="keep received documents")
    parser.add_argument("--spool", default="", help="directory for documents")
    args = parser.parse_args(argv)
    try:
        asyncio.run(_serve(args))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
