"""Where the authenticated ``Actor`` of a request is kept.

The authentication middleware is the only writer (``set_actor``), after it has proven who is
asking; handlers read it with ``actor_of``. A handler reached with no actor answers 401:
routes are denied by default, a public route says so explicitly (``PUBLIC``).
"""

from __future__ import annotations

from aiohttp import web

from ippproxy.services.actor import Actor

_KEY = "ippproxy.actor"
# Marks a handler that needs no authentication (login page, static files, health).
PUBLIC = "ippproxy.public"


def set_actor(request: web.Request, actor: Actor) -> None:
    request[_KEY] = actor


def actor_of(request: web.Request) -> Actor | None:
    actor = request.get(_KEY)
    return actor if isinstance(actor, Actor) else None
