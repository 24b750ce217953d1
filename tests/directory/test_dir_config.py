"""The configuration's [ldap] (config.from_dict, directory.settings.from_config) and the
scheduled sync against a throwaway slapd: it adds the users, and a directory that is down
makes a scheduled round log its reason and change nothing."""

from __future__ import annotations

import asyncio
import logging

import pytest
from ldap_seed import SUFFIX
from sqlalchemy import Engine
from support.slapd import Slapd

from ippproxy.accounting import users
from ippproxy.accounting.directory import user as user_view
from ippproxy.accounting.sync_plan import Field
from ippproxy.config import ConfigError, from_dict
from ippproxy.directory import TlsMode
from ippproxy.directory.schedule import run_forever, sync_once
from ippproxy.directory.settings import from_config
from ippproxy.directory.sync import DirectorySync


def test_config_section() -> None:
    assert from_config(from_dict({}).ldap) is None
    cfg = from_dict({"ldap": {"url": "ldaps://ldap.example.org", "base_dn": SUFFIX,
                              "tls": "ldaps", "card_attribute": "carLicense",
                              "overwrite": ["full-name"], "sync_interval": 3600}})
    s = from_config(cfg.ldap)
    assert s is not None
    assert (s.tls, s.attributes.card_number, s.overwrite) == \
        (TlsMode.LDAPS, "carLicense", frozenset({Field.FULL_NAME}))
    for bad, key in (({"url": "http://x", "base_dn": "dc=x"}, "ldap.url"),
                     ({"url": "ldap://x", "base_dn": "dc=x", "tls": "maybe"}, "ldap.tls"),
                     ({"url": "ldap://x", "base_dn": "dc=x", "tls": "ldaps"}, "ldap.tls"),
                     ({"url": "ldap://x"}, "ldap.base_dn"),
                     ({"url": "ldap://x", "base_dn": "dc=x", "overwrite": ["balance"]},
                      "ldap.overwrite")):
        with pytest.raises(ConfigError) as e:
            from_dict({"ldap": bad})
        assert e.value.args[0] == key or key in str(e.value)


async def test_scheduled_sync(engine: Engine, seeded: Slapd,
                              caplog: pytest.LogCaptureFixture) -> None:
    cfg = from_dict({"ldap": {"url": seeded.url, "base_dn": SUFFIX,
                              "bind_dn": f"cn=admin,{SUFFIX}", "bind_password": "admin-secret",
                              "timeout": 2}})
    s = from_config(cfg.ldap)
    assert s is not None
    sync = DirectorySync(engine, s, users.UserDefaults())
    task = asyncio.create_task(run_forever(sync, 0.2))
    try:
        for _ in range(100):
            with engine.connect() as c:
                if user_view(c, "jason") is not None:
                    break
            await asyncio.sleep(0.1)
        else:
            pytest.fail("the scheduled sync did not add the directory's users")
    finally:
        task.cancel()
    seeded.stop()
    with caplog.at_level(logging.WARNING, logger="ippproxy.directory.schedule"):
        assert await sync_once(sync) is None
    assert "directory sync failed, nothing changed" in caplog.text
    with engine.connect() as c:
        assert user_view(c, "jason") is not None
