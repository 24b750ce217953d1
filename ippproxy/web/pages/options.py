"""Options: the config keys kept in the database, each with the file's value and whether
the database overrides it; set or clear one (``services.options``)."""

from __future__ import annotations

from aiohttp import web

from ippproxy.services.actor import Access, Actor, Section
from ippproxy.services.errors import ServiceError
from ippproxy.web.pages.forms import catalog, done, posted_form, refused, render
from ippproxy.web.pages.guard import page


def _text(value: object) -> str:
    """A value as the file would spell it (TOML booleans in lower case)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


async def _view(request: web.Request, actor: Actor, errors: dict[str, str] | None = None,
                key: str = "", typed: str = "", status: int = 200) -> web.Response:
    options = await catalog(request).options.list(actor)
    # Each option has its own form: its value's error goes beside that form's field.
    shown = {f"value-{key}" if k == "value" else k: v for k, v in (errors or {}).items()}
    return render(request, "options.html", actor, "options", {
        "options": [{"key": o.key, "set_here": o.set_here, "default": _text(o.default),
                     "value": typed if o.key == key else _text(o.value)} for o in options],
        "errors": shown,
        "may_change": actor.may(Section.OPTIONS, Access.WRITE)}, status)


@page
async def option_list(request: web.Request, actor: Actor) -> web.StreamResponse:
    return await _view(request, actor)


@page
async def option_change(request: web.Request, actor: Actor) -> web.StreamResponse:
    form = await posted_form(request)
    key = request.match_info["key"]
    svc = catalog(request).options
    value = form.get(f"value-{key}", "").strip()  # each option's field has its own name
    try:
        if form.get("clear"):
            await svc.clear(actor, key)
        else:
            await svc.set(actor, key, value)
    except ServiceError as e:
        if (shown := refused(e)) is None:
            raise
        return await _view(request, actor, shown[0], key, value, shown[1])
    raise done("/admin/options", f"{'Cleared' if form.get('clear') else 'Set'} {key}")
