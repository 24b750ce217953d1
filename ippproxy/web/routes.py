"""Everything the web side adds to the application: its middlewares (problems outside,
authentication inside) and its routes. The composition root calls ``add_web`` and, once the
database is open, fills ``app[WEB].services``."""

from __future__ import annotations

from aiohttp import web

from ippproxy.web import (
    admin_roles_api,
    audit_api,
    catalog_api,
    directory_api,
    findme_api,
    jobs_api,
    me_api,
    me_events,
    me_jobs_api,
    me_release_api,
    queues_api,
    roles_api,
    session_api,
    settings_api,
    user_edit_api,
    users_api,
)
from ippproxy.web.api import Operation, add_operations
from ippproxy.web.auth import add_auth_routes, auth_middleware
from ippproxy.web.openapi import add_openapi
from ippproxy.web.problem import errors_middleware
from ippproxy.web.state import WEB, WebState

OPERATIONS: tuple[Operation, ...] = (session_api.OPERATIONS + jobs_api.OPERATIONS
                                     + users_api.OPERATIONS + queues_api.OPERATIONS
                                     + catalog_api.OPERATIONS + settings_api.OPERATIONS
                                     + audit_api.OPERATIONS + admin_roles_api.OPERATIONS
                                     + me_api.OPERATIONS
                                     + me_jobs_api.OPERATIONS + me_events.OPERATIONS
                                     + findme_api.OPERATIONS
                                     + directory_api.OPERATIONS + roles_api.OPERATIONS
                                     + me_release_api.OPERATIONS
                                     + user_edit_api.OPERATIONS)


async def _close_streams(app: web.Application) -> None:
    """The server is stopping: the users' event streams (``/api/v1/me/events``) end now,
    before aiohttp waits for the requests in flight (``on_shutdown`` runs first), not at
    the end of that wait."""
    services = app[WEB].services
    if services is not None and services.notices is not None:
        services.notices.close()


def add_web(app: web.Application) -> None:
    app[WEB] = WebState()
    app.on_shutdown.append(_close_streams)
    app.middlewares.append(errors_middleware)
    app.middlewares.append(auth_middleware)
    add_auth_routes(app)
    add_operations(app, OPERATIONS)
    add_openapi(app, OPERATIONS)
