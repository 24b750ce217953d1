"""A ``-c`` print command for ippeveprinter that reports impressions (ippeveprinter
2.4 ignores an ATTR update of job-media-sheets-completed, so only impressions).

ippeveprinter runs ``command FILE`` per job with ``CONTENT_TYPE`` (and IPP_*
job attributes) in the environment, and reads ``ATTR: name=value`` lines on the
command's stderr to update the job. We count pages of a PDF with pikepdf (1
for any other format), multiply by copies, and print nothing to paper.
"""

from __future__ import annotations

import os
import sys


def page_count(path: str, content_type: str) -> int:
    if content_type == "application/pdf":
        try:
            import pikepdf

            with pikepdf.open(path) as pdf:
                return len(pdf.pages)
        except (pikepdf.PdfError, OSError, ValueError):  # a broken PDF still "prints" one page
            return 1
    return 1


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        return 1
    pages = page_count(argv[1], os.environ.get("CONTENT_TYPE", ""))
    copies = int(os.environ.get("IPP_COPIES", "1") or 1)
    impressions = pages * copies
    print(f"ATTR: job-impressions-completed={impressions}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
