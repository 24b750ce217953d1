"""The services only the user web app calls, set when the server's resources are open
(the others come from ``web.state.WebServices``)."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from ippproxy.services.mydenials import MyDenials
from ippproxy.services.myledger import MyLedger
from ippproxy.services.userside import UserSide
from ippproxy.web.state import services_of


@dataclass(frozen=True)
class UserAppServices:
    ledger: MyLedger
    denials: MyDenials


class UserAppState:
    def __init__(self) -> None:
        self.services: UserAppServices | None = None


USER_APP = web.AppKey("ippproxy.userapp", UserAppState)


def ledger(request: web.Request) -> MyLedger | None:
    """None when accounting is off (nobody has accounts)."""
    found = request.app[USER_APP].services
    return None if found is None else found.ledger


def denials(request: web.Request) -> MyDenials | None:
    found = request.app[USER_APP].services
    return None if found is None else found.denials


def side(request: web.Request) -> UserSide | None:
    return services_of(request).userside
