"""The edit-user services (issue 18) as the composition root hands them to the web side:
none when accounting is off; both read the live configuration (options change it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from ippproxy.catalog import Catalog
from ippproxy.config import Config
from ippproxy.services.auditsink import AuditSink
from ippproxy.services.user_edit import UserEdit
from ippproxy.services.user_life import UserLife


def user_services(engine: Engine, audit: AuditSink, catalog: Catalog,
                  config: Callable[[], Config]) -> dict[str, Any]:
    """``user_edit`` and ``user_life`` for WebServices."""
    if not config().accounting.enabled:
        return {"user_edit": None, "user_life": None}
    return {"user_edit": UserEdit(engine, audit, lambda: config().users,
                                  lambda: config().ldap.overwrite if config().ldap.url
                                  else (), lambda: config().accounting.minor_unit_digits),
            "user_life": UserLife(engine, audit, lambda: config().users,
                                  lambda: config().accounting.currency, catalog)}
