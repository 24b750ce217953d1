"""``ippproxy inspect FILE [--json] [--copies N] [--sides S] [--number-up N] [--page-ranges R]``.

Detects the format, analyses the document in a worker (the same pool and
limits as the server), and prints pages, sizes, colour pages, impressions
and sheets.  ``--json`` prints one object whose keys are documented in
docs/inspect.md.  Exit status: 0 done, 1 the document was refused, 2 usage.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from ippproxy.filters import counts as pwg
from ippproxy.filters import detect
from ippproxy.filters.errors import AnalysisError
from ippproxy.filters.model import DocumentAnalysis
from ippproxy.filters.pool import AnalysisPool


def _ranges(text: str) -> tuple[tuple[int, int], ...]:
    out = []
    for part in text.split(","):
        lo, _, hi = part.strip().partition("-")
        try:
            out.append((int(lo), int(hi) if hi else int(lo)))
        except ValueError:
            raise argparse.ArgumentTypeError(f"bad page range {part!r}") from None
    return tuple(out)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ippproxy inspect",
                                description="count the pages, colour and sheets of a document")
    p.add_argument("file", type=Path)
    p.add_argument("--json", action="store_true", help="print JSON (keys: docs/inspect.md)")
    p.add_argument("--format", default=None, help="document-format hint (default: detect)")
    p.add_argument("--copies", type=int, default=1)
    p.add_argument("--sides", default="one-sided", choices=pwg.SIDES)
    p.add_argument("--number-up", type=int, default=1)
    p.add_argument("--page-ranges", type=_ranges, default=())
    p.add_argument("--media", default=pwg.DEFAULT_MEDIA,
                   help="media for documents without page sizes (images)")
    p.add_argument("--no-colour", action="store_true", help="count pages only")
    return p


async def _analyse(path: Path, fmt: str, colour: bool) -> DocumentAnalysis:
    async with AnalysisPool(1, queue_size=1) as pool:
        return await pool.analyse(path.resolve(), fmt, colour=colour)


def report(path: Path, analysis: DocumentAnalysis, counts: pwg.JobCounts | None,
           ticket: pwg.JobTicket, seconds: float) -> dict[str, Any]:
    return {
        "file": str(path),
        "format": analysis.format,
        "pages": analysis.pages,
        "page-sizes": [{"width": round(s.width, 2), "height": round(s.height, 2),
                        "media": s.media} for s in analysis.page_sizes],
        "colour-pages": None if analysis.colour_pages is None else list(analysis.colour_pages),
        "ticket": {"copies": ticket.copies, "sides": ticket.sides,
                   "number-up": ticket.number_up,
                   "page-ranges": [list(r) for r in ticket.page_ranges]},
        "job-impressions": counts.job_impressions if counts else None,
        "job-impressions-col": counts.job_impressions_col if counts else None,
        "job-media-sheets": counts.job_media_sheets if counts else None,
        "job-media-sheets-col": counts.job_media_sheets_col if counts else None,
        "impressions-total": counts.impressions_total if counts else None,
        "impressions-col-total": counts.impressions_col_total if counts else None,
        "per-media": [{"media": m.media, "impressions": m.impressions,
                       "impressions-col": m.impressions_col, "sheets": m.sheets,
                       "sheets-col": m.sheets_col,
                       "impressions-two-sided": m.duplexed,
                       "impressions-two-sided-col": m.duplexed_col}
                      for m in counts.per_media] if counts else [],
        "methods": list(analysis.methods),
        "notes": list(analysis.notes),
        "analysis-seconds": round(analysis.seconds, 4),
        "seconds": round(seconds, 4),
    }


def _text(r: dict[str, Any]) -> str:
    sizes: dict[str, int] = {}
    for s in r["page-sizes"]:
        sizes[s["media"]] = sizes.get(s["media"], 0) + 1
    colour = r["colour-pages"]
    lines = [
        f"file:          {r['file']}",
        f"format:        {r['format']}",
        f"pages:         {'unknown' if r['pages'] is None else r['pages']}",
        "page sizes:    " + (", ".join(f"{k} x{v}" for k, v in sizes.items()) or "from the job"),
        "colour pages:  " + ("unknown" if colour is None else
                             (", ".join(map(str, colour)) or "none")),
        (f"impressions:   {r['job-impressions']} per copy, {r['impressions-total']} in all"
         f" ({r['impressions-col-total']} colour)"),
        f"sheets:        {r['job-media-sheets']} ({r['job-media-sheets-col']} colour)",
    ]
    lines += [f"  {m['media']}: {m['sheets']} sheets, {m['impressions']} impressions"
              for m in r["per-media"]]
    lines += [f"note:          {n}" for n in r["notes"]]
    lines.append(f"time:          {r['seconds']:.3f} s (analysis {r['analysis-seconds']:.3f} s)")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    start = time.perf_counter()
    try:
        ticket = pwg.JobTicket(copies=args.copies, sides=args.sides,
                                      number_up=args.number_up, page_ranges=args.page_ranges,
                                      media=args.media)
    except ValueError as e:
        print(f"ippproxy inspect: {e}", file=sys.stderr)
        return 2
    try:
        with open(args.file, "rb") as f:
            head = f.read(detect.HEAD_BYTES)
        fmt = detect.detect_format(head, args.format)
        analysis = asyncio.run(_analyse(args.file, fmt, not args.no_colour))
    except OSError as e:
        print(f"ippproxy inspect: {args.file}: {e.strerror}", file=sys.stderr)
        return 1
    except AnalysisError as e:
        if args.json:
            print(json.dumps({"file": str(args.file), "error": e.status, "reason": e.reason}))
        else:
            print(f"ippproxy inspect: {args.file}: {e.reason} ({e.status})", file=sys.stderr)
        return 1
    counts = pwg.count_document(analysis, ticket)
    r = report(args.file, analysis, counts, ticket, time.perf_counter() - start)
    print(json.dumps(r, indent=2) if args.json else _text(r))
    return 0
