"""Paging a list the service answers whole (the catalog's objects: tens, not millions):
filter, sort, then one page as ``{items, total, offset, limit}``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ippproxy.web.models import PageQuery


def page(items: Sequence[dict[str, Any]], q: PageQuery, sort: str | None = None,
         keep: Callable[[dict[str, Any]], bool] = lambda item: True) -> dict[str, Any]:
    """``sort``: the key to order by (ties by name), None keeps the service's order."""
    chosen = [i for i in items if keep(i)]
    if sort is not None:
        chosen.sort(key=lambda i: (i[sort], i.get("name", "")))
    if q.order == "desc":
        chosen.reverse()
    return {"items": chosen[q.offset:q.offset + q.limit], "total": len(chosen),
            "offset": q.offset, "limit": q.limit}
