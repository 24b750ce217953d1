"""The REST API's models for queues (printers): settings as the configuration file's
``[[queue]]`` keys, the operating state, and the destination's live state."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ippproxy.config import AUTHENTICATION, RELEASE
from ippproxy.web.catalog_models import Paged, Text
from ippproxy.web.models import Order, PageQuery, Printable, Request, Response

QueueName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,126}$",
                                 description="letters, digits, '_', '.', '-'")]
Destination = Annotated[str, Field(min_length=1, max_length=1024, description=(
    "ipp://, ipps://, http:// or https:// URI of the real printer, or \"builtin\"")),
    Printable]
Authentication = Literal["none", "basic", "token", "popup"]
assert set(Authentication.__args__) == set(AUTHENTICATION)  # type: ignore[attr-defined]
Release = Literal["none", "secure", "release-any", "approval"]
assert set(Release.__args__) == set(RELEASE)  # type: ignore[attr-defined]
Approver = Annotated[str, Field(min_length=1, max_length=255), Printable]


# -- queues -------------------------------------------------------------------------------
class QueueFields(Request):
    info: Text | None = None
    location: Text | None = None
    force_print_job: bool | None = None
    cost_model: Annotated[str, Field(max_length=127), Printable] | None = Field(
        None, description="a cost model's name; empty: accounting.default_cost_model")
    authentication: Authentication | None = None
    token_over_ipp: bool | None = Field(None, description=(
        "authentication \"token\": personal printer URLs also over plain ipp://"))
    account_required: bool | None = Field(None, description=(
        "every job names an account (job-account-id); one without is held"))
    release: Release | None = Field(None, description=(
        "hold/release: every job is held until its owner (secure), any authenticated "
        "user (release-any) or an approver (approval) releases it"))
    approvers: list[Approver] | None = Field(None, description=(
        "release = approval: user names, or @group"))
    pin_required: bool | None = Field(None, description=(
        "job-password (a PIN, PWG 5100.11) is mandatory on this queue"))
    force_grayscale: bool | None = None
    force_duplex: bool | None = None
    findme_printers: list[QueueName] | None = Field(None, max_length=64, description=(
        "Find-Me: this queue's jobs are held and released at one of these queues"))
    default: bool | None = Field(None, description="the default queue (CUPS-Get-Default, "
                                 "ipp://host/); marking one unmarks the other")
    dnssd: bool | None = Field(None, description="advertised by DNS-SD when [dnssd] is on")


class QueueCreate(QueueFields):
    name: QueueName
    destination: Destination


class QueueUpdate(QueueFields):
    destination: Destination | None = None


class Marker(Response):
    name: str
    colour: str
    level: int = Field(description="percent; -1 unavailable, -2 unknown, -3 some left")
    kind: str


class Live(Response):
    """The destination as this node last saw it (RFC 8011 §5.4.11-13, PWG 5100.13)."""

    reachable: bool
    state: str
    reasons: list[str]
    message: str
    markers: list[Marker]
    active_jobs: int


class QueueOut(Response):
    name: str
    destination: str
    info: str
    location: str
    force_print_job: bool
    cost_model: str
    authentication: str
    token_over_ipp: bool = False
    account_required: bool = False
    release: str = "none"
    approvers: list[str] = Field(default_factory=list)
    pin_required: bool = False
    force_grayscale: bool
    force_duplex: bool
    findme_printers: list[str] = Field(default_factory=list)
    default: bool
    dnssd: bool
    provisioned: bool
    paused: bool
    accepting: bool
    state_message: str
    live: Live | None = Field(description="null until this node serves the queue")


class QueueQuery(PageQuery):
    order: Order = "asc"
    sort: Literal["name", "destination"] = "name"
    paused: bool | None = None
    provisioned: bool | None = None


class QueuePage(Paged):
    items: list[QueueOut]


class Canceled(Response):
    canceled: int = Field(description="how many unfinished jobs were canceled")


class StateMessage(Request):
    message: Annotated[str, Field(max_length=255), Printable] = ""
