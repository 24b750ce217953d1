"""What the catalog's admin pages share: rendering a page with the values the admin typed
and each refused field's message beside it, and reading a form's text into the services'
fields. The services check every value (the same checks as the REST API and ``ippproxy
cmd``); a refused one comes back as ``Invalid`` naming its field, shown beside it with
status 422, a clash (``Conflict``: a duplicate name, a provisioned object) above the form
with status 409."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web

from ippproxy.services.actor import Actor
from ippproxy.services.errors import Conflict, Forbidden, Invalid, ServiceError
from ippproxy.web.auth import CSRF_FIELD, CSRF_HEADER, session_of
from ippproxy.web.pages.guard import csrf_token
from ippproxy.web.state import CatalogServices, services_of

FORM_ERROR = "_form"   # the key of an error about the whole form


def catalog(request: web.Request) -> CatalogServices:
    return services_of(request).catalog


def page_csrf(request: web.Request) -> str:
    """The CSRF token the page's forms send back: the one the guard was given, else the
    session's own (``web.auth`` keeps it with the session; a token-authenticated
    request has none, so it cannot post a form)."""
    token = csrf_token(request)
    if token:
        return token
    found = session_of(request)
    return found[1].csrf if found is not None else ""


async def posted_form(request: web.Request) -> dict[str, str]:
    """The posted form, after its CSRF token matched the page's (else ``Forbidden``,
    before anything changes: OWASP synchronizer token pattern)."""
    form = await request.post()
    sent = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER, "")
    expected = page_csrf(request)
    if not (isinstance(sent, str) and expected
            and hmac.compare_digest(sent.encode(), expected.encode())):
        raise Forbidden("the form's CSRF token is missing or wrong; reload the page")
    return {k: v for k, v in form.items() if isinstance(v, str)}


def render(request: web.Request, template: str, actor: Actor, nav: str,
           context: Mapping[str, Any], status: int = 200) -> web.Response:
    base = {"actor": actor, "csrf": page_csrf(request), "nav": nav, "errors": {},
            "values": {}, "notice": request.query.get("done", "")[:200]}
    return aiohttp_jinja2.render_template(template, request, {**base, **context},
                                          status=status)


def done(path: str, message: str) -> web.HTTPSeeOther:
    """After a change: back to ``path``, which says what was done."""
    return web.HTTPSeeOther(f"{path}?{urlencode({'done': message})}")


def refused(e: ServiceError) -> tuple[dict[str, str], int] | None:
    """The error as ``{field: message}`` and the status to answer, or None when it is not
    about the form (not found, forbidden: the guard's error page)."""
    if isinstance(e, Invalid):
        return {e.field: e.reason}, 422
    if isinstance(e, Conflict):
        return {FORM_ERROR: e.detail}, 409
    return None


def words(text: str) -> list[str]:
    """A comma-separated list as typed: ``"a, b,,c"`` -> ``["a", "b", "c"]``."""
    return [w.strip() for w in text.split(",") if w.strip()]


def whole(form: Mapping[str, str], name: str, out: dict[str, Any]) -> None:
    """Put ``form[name]`` in ``out`` as an integer when given; else ``Invalid``."""
    text = form.get(name, "").strip()
    if not text:
        return
    try:
        out[name] = int(text)
    except ValueError:
        raise Invalid(name, "a whole number") from None


def texts(form: Mapping[str, str], names: tuple[str, ...]) -> dict[str, Any]:
    """The named fields the admin filled in (an empty one keeps the current value)."""
    return {n: form[n].strip() for n in names if form.get(n, "").strip()}
