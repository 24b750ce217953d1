"""The REST models of the user source sync (``/api/v1/directory``, ``web.directory_api``)."""

from __future__ import annotations

import datetime as dt

from ippproxy.web.models import Limit, Offset, Request, Response


class SourceOut(Response):
    """The connection settings (read-only, from the configuration; no password)."""

    url: str
    tls: str
    base_dn: str
    bind_dn: str
    user_filter: str
    group_base_dn: str
    attributes: dict[str, str]
    nested_groups: bool
    timeout: float
    overwrite: list[str]


class StatusOut(Response):
    at: dt.datetime
    kind: str
    counts: dict[str, int]
    error: str


class DirectoryOut(Response):
    source: SourceOut
    last_sync: StatusOut | None


class PreviewQuery(Request):
    offset: Offset = 0
    limit: Limit = 50


class AddOut(Response):
    name: str
    full_name: str
    email: str | None
    groups: list[str]


class FieldChange(Response):
    field: str
    old: str | None
    new: str | None


class ChangeOut(Response):
    name: str
    fields: list[FieldChange]
    join: list[str]
    leave: list[str]


class PreviewOut(Response):
    """Each list paged by the same ``offset`` and ``limit``; ``totals`` counts them all."""

    adds: list[AddOut]
    changes: list[ChangeOut]
    deletes: list[str]
    new_groups: list[str]
    warnings: list[str]
    totals: dict[str, int]
    offset: int
    limit: int


class ApplyIn(Request):
    delete_missing: bool = False  # the bulk delete of users gone from the directory


class ApplyOut(Response):
    applied: bool
    deleted: int
    counts: dict[str, int]
    warnings: list[str]
