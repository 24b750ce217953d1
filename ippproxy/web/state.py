"""The services the web side calls, filled in by the composition root when the server has
opened its database (until then every web request answers 503)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from ippproxy.services.admins import Admins
from ippproxy.services.audit import AuditService
from ippproxy.services.cashier import Cashier
from ippproxy.services.cost_models import CostModelService
from ippproxy.services.desktop_login import DesktopLogins
from ippproxy.services.findme import FindMe
from ippproxy.services.groups import GroupService
from ippproxy.services.jobs import Jobs
from ippproxy.services.options import OptionService
from ippproxy.services.printas import PrintAsOther
from ippproxy.services.printer_status import PrinterStatus
from ippproxy.services.printer_urls import PrinterUrls
from ippproxy.services.queues import QueueService
from ippproxy.services.release import Release
from ippproxy.services.reports import Reports
from ippproxy.services.rules import RuleService
from ippproxy.services.sessions import Sessions
from ippproxy.services.throttle import LoginThrottle
from ippproxy.services.tokens import Tokens
from ippproxy.services.totp import Totp
from ippproxy.services.user_edit import UserEdit
from ippproxy.services.user_life import UserLife
from ippproxy.services.user_list import UserList
from ippproxy.services.user_roles import UserRoles
from ippproxy.services.user_sync import UserSync
from ippproxy.services.usernotices import UserNotices
from ippproxy.services.users import Users
from ippproxy.services.userside import UserSide


@dataclass(frozen=True)
class CatalogServices:
    """The catalog's objects, the destinations' live state and the dashboard's figures;
    ``refresh`` makes this node take a catalog change at once (the others see it within
    their poll interval)."""

    queues: QueueService
    printers: PrinterStatus
    cost_models: CostModelService
    rules: RuleService
    groups: GroupService
    options: OptionService
    audit: AuditService
    reports: Reports
    refresh: Callable[[], Awaitable[object]]


#: The uid of a request's peer on the local Unix socket, None over TCP (server/authn.py
#: ``peer_uid``, handed in by app.py: web does not import server).
PeerUid = Callable[[web.Request], int | None]


def no_peer(request: web.Request) -> int | None:
    return None


@dataclass(frozen=True)
class WebServices:
    admins: Admins
    sessions: Sessions
    tokens: Tokens
    throttle: LoginThrottle
    jobs: Jobs
    users: Users | None  # None when accounting is off
    catalog: CatalogServices
    printer_urls: PrinterUrls | None = None  # the users' personal printer URLs
    userside: UserSide | None = None  # a user's own jobs and accounts (accounting on)
    notices: UserNotices | None = None  # a user's live events (accounting on)
    print_as: PrintAsOther | None = None  # "print as another user" (accounting on)
    findme: FindMe | None = None  # Find-Me releases (accounting on)
    totp: Totp | None = None  # the optional second factor of a sign-in (RFC 6238)
    user_sync: UserSync | None = None  # the LDAP user source ([ldap] url, accounting on)
    user_roles: UserRoles | None = None  # roles per user and group (accounting on)
    cashier: Cashier | None = None  # the web cashier's deposits (accounting on)
    release: Release | None = None  # jobs held for release (issue 17 §6)
    user_edit: UserEdit | None = None  # editing one user (accounting on; issue 18)
    user_life: UserLife | None = None  # create, delete, erase, personal data (issue 18)
    user_list: UserList | None = None  # the admin's user list (accounting on)
    desktop: DesktopLogins | None = None  # users.trust_desktop_user on
    peer_uid: PeerUid = no_peer


class WebState:
    def __init__(self) -> None:
        self.services: WebServices | None = None

    def get(self) -> WebServices:
        if self.services is None:
            raise web.HTTPServiceUnavailable(text="the server is starting")
        return self.services


WEB: web.AppKey[WebState] = web.AppKey("ippproxy.web", WebState)


def services_of(request: web.Request) -> WebServices:
    return request.app[WEB].get()
