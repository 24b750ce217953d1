"""The REST API's models for the catalog's objects (queues, cost models, rules, groups'
settings and quotas, options), the audit log and the dashboard summary. Field names are
the configuration file's keys (``[[queue]]``, ``[[cost_model]]``, ``[[rule]]``,
``[[group]]``); amounts are decimal strings in the major unit, as there."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, Field, Strict

from ippproxy.config import RULE_TYPES, UNKNOWN_MODES
from ippproxy.web.models import Limit, Name, Order, PageQuery, Printable, Request, Response, Time

Decimal = Annotated[str, Field(pattern=r"^\d{1,12}(\.\d{1,12})?$", max_length=25,
                               description="a decimal amount in the major unit")]
Text = Annotated[str, Field(max_length=255), Printable]
Label = Annotated[str, Field(min_length=1, max_length=127), Printable]
Labels = Annotated[list[Label], Field(max_length=100)]
RuleType = Literal["max-pages", "max-copies", "max-cost", "max-spool-size", "paper-sizes",
                   "allowed-formats", "allowed-users", "duplicate-jobs", "force-grayscale",
                   "force-duplex", "ask-account", "charge-account", "confirm-job"]
Unknown = Literal["allow", "hold", "deny"]
assert set(RuleType.__args__) == set(RULE_TYPES)  # type: ignore[attr-defined]
assert set(Unknown.__args__) == set(UNKNOWN_MODES)  # type: ignore[attr-defined]
Count = Annotated[int, Field(ge=0, le=2**31 - 1)]


class Paged(Response):
    total: int
    offset: int
    limit: int


# -- cost models --------------------------------------------------------------------------
class MediaPrice(Request):
    name: Label = Field(description="PWG 5101.1 media name, e.g. iso_a3_297x420mm")
    mono: Decimal = "0"
    color: Decimal = "0"


class CostModelFields(Request):
    mono: Decimal | None = None
    color: Decimal | None = None
    duplex_discount: Decimal | None = Field(None, description="a fraction from 0 to 1")
    job_fee: Decimal | None = None
    media: Annotated[list[MediaPrice], Field(max_length=100)] | None = None


class CostModelCreate(CostModelFields):
    name: Label


class MediaPriceOut(Response):
    name: str
    mono: str
    color: str


class CostModelOut(Response):
    name: str
    mono: str
    color: str
    duplex_discount: str
    job_fee: str
    media: list[MediaPriceOut]
    provisioned: bool


class NamedQuery(PageQuery):
    order: Order = "asc"


class CostModelPage(Paged):
    items: list[CostModelOut]


# -- rules --------------------------------------------------------------------------------
class RuleFields(Request):
    printers: Labels | None = None
    groups: Labels | None = None
    exempt_groups: Labels | None = None
    limit: Count | None = None
    amount: Decimal | None = None
    values: Labels | None = None
    allowed_groups: Labels | None = None
    window_minutes: Count | None = None
    min_pages: Count | None = None
    unknown: Unknown | None = None
    allow_print_as_other: bool | None = Field(
        None, description="ask-account: also offer \"print as another user\"")


class RuleCreate(RuleFields):
    name: Label
    type: RuleType
    position: Annotated[int, Field(ge=1, le=10**6)] | None = Field(
        None, description="1: first; omitted: last")


class RuleUpdate(RuleFields):
    type: RuleType | None = None


class RuleOut(Response):
    position: int
    name: str
    type: str
    printers: list[str]
    groups: list[str]
    exempt_groups: list[str]
    limit: int
    amount: str
    values: list[str]
    allowed_groups: list[str]
    window_minutes: int
    min_pages: int
    unknown: str
    allow_print_as_other: bool
    provisioned: bool


class RulePage(Paged):
    items: list[RuleOut]


class RuleMove(Request):
    position: Annotated[int, Field(ge=1, le=10**6, description="1: first")]


class RuleOrder(Response):
    order: list[str]


# -- groups' settings and quotas ----------------------------------------------------------
class GroupFields(Request):
    multiplier: Decimal | None = None
    initial_balance: Decimal | None = None
    restricted: bool | None = None
    credit_limit: Decimal | None = None


class GroupCreate(GroupFields):
    name: Name


class GroupSettingsOut(Response):
    name: str
    multiplier: str
    initial_balance: str
    restricted: bool
    credit_limit: str
    provisioned: bool


class GroupSettingsList(Response):
    items: list[GroupSettingsOut]


class Quota(Request):
    period: Literal["", "daily", "weekly", "monthly"] = Field(description="empty: none")
    amount: Decimal = "0"
    cap: Decimal | None = None


class QuotaOut(Response):
    group: str
    period: str
    amount: str
    cap: str | None


# -- options ------------------------------------------------------------------------------
# As JSON types them (strict: "0.10" stays a string, 1 an integer).
Value = Annotated[Annotated[bool, Strict()] | Annotated[int, Strict()]
                  | Annotated[str, Field(max_length=255), Printable],
                  Field(union_mode="left_to_right")]


class OptionSet(Request):
    value: Value


class OptionOut(Response):
    key: str
    value: Any
    default: Any = Field(description="the configuration file's value")
    set_here: bool = Field(description="true: the database overrides the file")


class OptionList(Response):
    items: list[OptionOut]


# -- the audit log and the dashboard ------------------------------------------------------
class AuditQuery(Request):
    actor: Name | None = None
    kind: Annotated[str, Field(min_length=1, max_length=32), Printable] | None = None
    name: Name | None = None
    action: Annotated[str, Field(min_length=1, max_length=32), Printable] | None = None
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None
    before_id: Annotated[int, Field(ge=1, le=2**62)] | None = Field(
        None, description="the next_before_id of the previous page")
    limit: Limit = 50


class AuditOut(Response):
    id: int
    at: Time
    actor: str
    via: str
    action: str
    kind: str
    name: str
    before: Any
    after: Any


class AuditPage(Response):
    items: list[AuditOut]
    next_before_id: int | None = Field(description="null on the last page")


class Summary(Response):
    pending: int
    held: int
    processing: int
    printed: int = Field(description="completed in the last 24 hours")
    pages: int = Field(description="their pages")
    canceled: int
    aborted: int
    denied: int = Field(description="refused by a rule on this node since it started")
