"""``/api/v1/session`` (log in, who am I, log out) and ``/api/v1/tokens`` (API tokens)."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from ippproxy.services.actor import Access, Actor, Section, Via
from ippproxy.services.sessions import Session
from ippproxy.services.tokens import TokenInfo
from ippproxy.web import models as m
from ippproxy.web.api import Call, Operation
from ippproxy.web.auth import clear_session_cookie, log_in, log_out, session_of, set_session_cookie
from ippproxy.web.desktop_login import desktop_log_in


def session_info(actor: Actor, session: Session | None) -> m.SessionInfo:
    via: m.SessionVia = "token" if actor.via == Via.TOKEN else \
        "desktop" if session is not None and session.desktop else "session"
    return m.SessionInfo(name=actor.name, via=via,
                         superuser=actor.superuser,
                         rights={str(s): actor.access(s).name.lower() for s in Section},  # type: ignore[misc]
                         csrf_token=session.csrf if session is not None else None)


def _logged_in(call: Call, result: tuple[str, Session, Actor] | web.Response) -> Any:
    if isinstance(result, web.Response):
        return result
    sid, session, actor = result
    response = web.Response(status=201, text=session_info(actor, session).model_dump_json(),
                            content_type="application/json")
    set_session_cookie(response, sid, call.services.sessions.settings.absolute)
    return response


async def login(call: Call) -> Any:
    body: m.LoginRequest = call.body
    return _logged_in(call, await log_in(call.request, body.username, body.password,
                                         body.code))


async def desktop_login(call: Call) -> Any:
    body: m.DesktopLoginRequest = call.body
    return _logged_in(call, await desktop_log_in(call.request, body.code))


async def whoami(call: Call) -> Any:
    found = session_of(call.request)
    return session_info(call.who(), found[1] if found else None)


async def logout(call: Call) -> Any:
    await log_out(call.request)
    response = web.Response(status=204)
    clear_session_cookie(response)
    return response


def token_out(t: TokenInfo) -> dict[str, Any]:
    return {"id": t.id, "name": t.name, "access": t.access.name.lower(),
            "sections": [str(s) for s in t.sections], "created_by": t.created_by,
            "created_at": t.created_at, "last_used_at": t.last_used_at,
            "revoked_at": t.revoked_at}


async def create_token(call: Call) -> Any:
    body: m.TokenCreate = call.body
    info, secret = await asyncio.to_thread(
        call.services.tokens.create, call.who(), body.name,
        Access.READ if body.access == "read" else Access.WRITE,
        tuple(Section(s) for s in body.sections))
    return {**token_out(info), "token": secret}


async def list_tokens(call: Call) -> Any:
    q: m.TokenQuery = call.query
    found = await asyncio.to_thread(call.services.tokens.list, call.who(),
                                    include_revoked=q.include_revoked)
    return {"items": [token_out(t) for t in found]}


async def revoke_token(call: Call) -> Any:
    return token_out(await asyncio.to_thread(call.services.tokens.revoke, call.who(),
                                             call.path["id"]))


OPERATIONS = (
    Operation("POST", "/session", login, "Log in: a session cookie and its CSRF token",
              "session", body=m.LoginRequest, response=m.SessionInfo, status=201,
              public=True, more_errors=(503,)),  # 503: the user directory is unreachable
    Operation("POST", "/session/desktop", desktop_login,
              "Log in as the desktop user: over the local socket (server.unix_socket), "
              "where users.trust_desktop_user is on; a user session, never admin rights",
              "session", body=m.DesktopLoginRequest, response=m.SessionInfo, status=201,
              public=True, more_errors=(403,)),  # 403: not trusted, not local, no such user
    Operation("GET", "/session", whoami, "Who is asking, and their rights", "session",
              response=m.SessionInfo),
    Operation("DELETE", "/session", logout, "Log out (ends the session)", "session"),
    Operation("POST", "/tokens", create_token, "Create an API token (its secret shown once)",
              "tokens", Section.OPTIONS, Access.WRITE, body=m.TokenCreate,
              response=m.TokenCreated, status=201),
    Operation("GET", "/tokens", list_tokens, "List API tokens", "tokens", Section.OPTIONS,
              Access.WRITE, query=m.TokenQuery, response=m.TokenList),
    Operation("DELETE", "/tokens/{id}", revoke_token, "Revoke an API token", "tokens",
              Section.OPTIONS, Access.WRITE, response=m.TokenOut,
              path_params={"id": "the token's id"}),
)
