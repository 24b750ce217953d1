"""TEST ONLY, not part of the product: ``ippproxy serve`` with a stand-in for the admin
login, so the admin pages can be driven before the real authentication lands (h5).

Run as a script (``python tests/support/admin_server.py --config FILE``); it wraps
``ippproxy.app.build_app`` to add one middleware that, on ``/admin`` paths, sets the
request's ``Actor`` and CSRF token the way the authentication middleware will:

* by default a superuser ``test-admin``;
* with the cookie ``test-actor=reader``, ``test-reader`` with read access to printers only;
* with the cookie ``test-actor=anonymous``, nobody (the pages must answer 401).

The CSRF token is ``TEST_CSRF``; a form that sends another one must be refused.
Nothing in ``ippproxy/`` imports this file; the product's ``ippproxy serve`` has no such path.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from aiohttp import web

import ippproxy.app as app_module
from ippproxy.config import load
from ippproxy.services.actor import Access, Actor, Section, Via
from ippproxy.web.identity import set_actor
from ippproxy.web.pages.guard import CSRF_KEY

TEST_CSRF = "test-csrf-token-0123456789abcdef"
ACTORS = {
    "admin": Actor("test-admin", Via.SESSION, superuser=True),
    "reader": Actor("test-reader", Via.SESSION, rights=((Section.PRINTERS, Access.READ),)),
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def test_actor(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith("/admin") and request.content_type != "application/ipp":
        actor = ACTORS.get(request.cookies.get("test-actor", "admin"))
        if actor is not None:
            set_actor(request, actor)
            request[CSRF_KEY] = TEST_CSRF
    return await handler(request)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("serve", nargs="?")
    parser.add_argument("--config", required=True)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    logging.basicConfig(level=getattr(logging, args.log_level.upper()),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    real = app_module.build_app

    def build(config: Any, **kw: Any) -> web.Application:
        app = real(config, **kw)
        app.middlewares.append(test_actor)
        return app

    app_module.build_app = build  # type: ignore[assignment]
    asyncio.run(app_module.serve(load(args.config)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
