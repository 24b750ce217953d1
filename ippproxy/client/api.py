"""The user's side of ``/api/v1`` with the saved session: requests carry the session
cookie and its CSRF token; a 401 (the session expired or was ended) logs in again once
when the user's password can be had (or as the desktop user, ``--desktop-login``), else
tells the user to log in."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

import aiohttp

from ippproxy.client.errors import ClientFailure, Refused
from ippproxy.client.login import COOKIE, AskCode, log_in, log_in_desktop, problem_detail
from ippproxy.client.store import Saved, TokenStore

GetPassword = Callable[[], Awaitable[str | None]]


class Api:
    """``base``: the URL requests go to; ``key``: where the session is kept (the base, or
    ``unix:PATH`` for the local socket); ``desktop``: log in as the desktop user."""

    def __init__(self, http: aiohttp.ClientSession, base: str, store: TokenStore,
                 user: str | None, password: GetPassword, ask_code: AskCode, *,
                 key: str | None = None, desktop: bool = False) -> None:
        self.http = http
        self.base = base
        self.key = key or base
        self.store = store
        self.user = user
        self.password = password
        self.ask_code = ask_code
        self.desktop = desktop
        self.saved: Saved | None = None

    async def ready(self, *, fresh: bool = False) -> Saved:
        """The saved session (for this user when one is named), or a new login."""
        if not fresh and self.saved is None:
            found = self.store.load(self.key)
            if found is not None and self.user in (None, found.user):
                self.saved = found
        if fresh or self.saved is None:
            self.store.forget(self.key)
            self.saved = None
            self.saved = replace(await self._log_in(), server=self.key)
            self.store.save(self.saved)
        return self.saved

    async def _log_in(self) -> Saved:
        if self.desktop:
            return await log_in_desktop(self.http, self.base, self.ask_code)
        if self.user is None:
            raise ClientFailure("not logged in: give --user (and the password when "
                                "asked, or --password-file)")
        password = await self.password()
        if not password:
            raise ClientFailure(f"no password for {self.user}")
        return await log_in(self.http, self.base, self.user, password, self.ask_code)

    def headers(self) -> dict[str, str]:
        assert self.saved is not None
        return {"Cookie": f"{COOKIE}={self.saved.session}", "X-CSRF-Token": self.saved.csrf}

    async def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """JSON in and out; a 4xx is ``Refused`` with the server's detail."""
        await self.ready()
        for attempt in range(2):
            async with self.http.request(method, self.base + path, json=body,
                                         headers=self.headers()) as r:
                text = await r.text()
                if r.status == 401 and attempt == 0:
                    await self.ready(fresh=True)
                    continue
                if r.status >= 400:
                    raise Refused(r.status, problem_detail(r.status, text)[1])
                return json.loads(text) if text else None
        raise ClientFailure("the server does not accept the new session")

    @contextlib.asynccontextmanager
    async def events(self, last_id: str | None) -> AsyncIterator[aiohttp.ClientResponse]:
        """``GET /api/v1/me/events`` open (status 200), with ``Last-Event-ID`` when one
        was seen (HTML Living Standard §9.2.4)."""
        await self.ready()
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=60)
        for attempt in range(2):
            headers = {**self.headers(), "Accept": "text/event-stream",
                       "Cache-Control": "no-store"}
            if last_id:
                headers["Last-Event-ID"] = last_id
            r = await self.http.get(self.base + "/api/v1/me/events", headers=headers,
                                    timeout=timeout)
            try:
                if r.status == 401 and attempt == 0:
                    await self.ready(fresh=True)
                    continue
                if r.status != 200:
                    raise Refused(r.status, problem_detail(r.status, await r.text())[1])
                yield r
                return
            finally:
                r.release()
        raise ClientFailure("the server does not accept the new session")
