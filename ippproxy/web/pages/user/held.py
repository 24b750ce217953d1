"""The answers a user gives for their own held job, as forms (the live popups answer
through ``/api/v1/me/jobs/...`` instead): ``POST /user/jobs/{uuid}/cancel`` (nothing
charged), ``.../account`` (charge it to the chosen or typed account, with its PIN when it
has one, and release it), ``.../as-user`` (print as another user: their name and
password) and
``.../confirm`` (the last chance: print or cancel) and ``.../release`` (a job held for its
release, through the release service, services/release.py, which checks who may and
whether the printer can print). Each checks the session's CSRF token and the owner
(another user's job is 404); then back to the page the form was on.
"""

from __future__ import annotations

from aiohttp import web

from ippproxy.services.actor import Actor
from ippproxy.services.errors import Invalid, NotFound
from ippproxy.services.owncancel import cancel_own
from ippproxy.web.pages.guard import checked_form
from ippproxy.web.pages.user.guard import user_page
from ippproxy.web.pages.user.home import needs
from ippproxy.web.state import services_of

PERSONAL = "-"   # the form's value for the personal account


def _back(form: dict[str, str]) -> str:
    back = form.get("back", "")
    return back if back in ("/user/", "/user/jobs") else "/user/"


@user_page
async def job_action(request: web.Request, actor: Actor) -> web.StreamResponse:
    form = await checked_form(request)
    s, _ = needs(request)
    uuid = request.match_info["uuid"]
    action = request.match_info["action"]
    if action == "cancel":
        await cancel_own(s, actor, uuid)
    elif action == "account":
        code = form.get("account", "")
        if not code:
            raise Invalid("account", "choose an account")
        # The account's PIN only when given: an empty field is no PIN (issue 17 §5).
        if code == PERSONAL:
            await s.choose_account(actor, uuid, None)
        else:
            await s.choose_account(actor, uuid, code.strip(), form.get("pin") or None,
                                   address=request.remote or "")
    elif action == "as-user":
        print_as = services_of(request).print_as
        name, password = form.get("as_user", "").strip(), form.get("password", "")
        if print_as is None:
            raise NotFound("account service", uuid)
        if not name or not password:
            raise Invalid("as_user", "a user name and their password")
        await print_as.answer(actor, uuid, name, password, address=request.remote or "")
    elif action == "confirm":
        answer = form.get("answer")
        if answer not in ("print", "cancel"):
            raise Invalid("answer", "print or cancel")
        await s.confirm(actor, uuid, answer == "print")
    elif action == "release":
        release = services_of(request).release
        if release is None:
            raise NotFound("release service", uuid)
        await release.release(actor, uuid)
    else:
        raise Invalid("action", "cancel, account, as-user, confirm or release")
    raise web.HTTPSeeOther(_back(form))
