"""The REST API's request and response models (pydantic); the OpenAPI document is generated
from them (``web.openapi``). Requests forbid unknown fields; times are RFC 3339 with an
offset (stored times without one are UTC); money is integer minor units."""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from ippproxy.ipp import JobState


def _utc(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def _printable(text: str) -> str:
    """No control characters (NUL, CR, LF, ...) in any name, search or reason."""
    if any(unicodedata.category(c) == "Cc" for c in text):
        raise ValueError("control characters are not allowed")
    return text


def _no_nul(text: str) -> str:
    if "\x00" in text:
        raise ValueError("NUL is not allowed")
    return text


Time = Annotated[dt.datetime, AfterValidator(_utc)]
SectionName = Literal["users", "finance", "printers", "options", "audit"]
AccessName = Literal["none", "read", "write"]
StateName = Literal["pending", "pending-held", "processing", "processing-stopped",
                    "canceled", "aborted", "completed"]
assert set(StateName.__args__) == {s.keyword for s in JobState}  # type: ignore[attr-defined]
Order = Literal["asc", "desc"]
Limit = Annotated[int, Field(ge=1, le=500, description="at most 500 items per page")]
Offset = Annotated[int, Field(ge=0, le=10**9)]
Name = Annotated[str, Field(min_length=1, max_length=255), AfterValidator(_printable)]

Printable = AfterValidator(_printable)


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Response(BaseModel):
    model_config = ConfigDict(frozen=True)


class Problem(Response):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


class FieldError(Response):
    field: str
    message: str


# -- session and tokens ------------------------------------------------------------------
class LoginRequest(Request):
    username: Name
    password: Annotated[str, Field(min_length=1, max_length=1024), AfterValidator(_no_nul)]
    code: Annotated[str, Field(max_length=16, description="the TOTP code (RFC 6238) of a "
                               "user who turned two-step sign-in on")] | None = None


class DesktopLoginRequest(Request):
    code: Annotated[str, Field(max_length=16, description="the TOTP code (RFC 6238) of a "
                               "user who turned two-step sign-in on")] | None = None


#: How a session's holder came in: a password login, a desktop login (user rights only),
#: an API token.
SessionVia = Literal["session", "desktop", "token"]


class SessionInfo(Response):
    name: str
    via: SessionVia = Field(
        description="desktop: a desktop login's session (user rights only)")
    superuser: bool
    rights: dict[SectionName, AccessName]
    csrf_token: str | None = Field(None, description="send it as X-CSRF-Token on changes")


class TokenCreate(Request):
    name: Annotated[str, Field(min_length=1, max_length=128), Printable]
    access: Literal["read", "write"]
    sections: Annotated[list[SectionName], Field(min_length=1, max_length=5)]


class TokenOut(Response):
    id: str
    name: str
    access: Literal["read", "write"]
    sections: list[SectionName]
    created_by: str
    created_at: Time
    last_used_at: Time | None
    revoked_at: Time | None


class TokenCreated(TokenOut):
    token: str = Field(description="the secret: shown this once, stored hashed")


class TokenList(Response):
    items: list[TokenOut]


class TokenQuery(Request):
    include_revoked: bool = False


# -- jobs ---------------------------------------------------------------------------------
class PageQuery(Request):
    offset: Offset = 0
    limit: Limit = 50
    order: Order = "desc"


class JobQuery(PageQuery):
    user: Name | None = None
    printer: Name | None = None
    state: list[StateName] = Field(default_factory=list)
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None
    sort: Literal["created_at", "completed_at", "job_id", "owner", "queue", "state",
                  "priority"] = "created_at"


class JobOut(Response):
    uuid: str
    printer: str
    job_id: int
    state: StateName
    state_reasons: list[str]
    state_message: str | None
    owner: str
    name: str | None
    document_format: str | None
    size: int
    priority: int
    hold_until: str | None
    impressions_completed: int | None
    created_at: Time
    processing_at: Time | None
    completed_at: Time | None


class JobMove(Request):
    printer: Name


class JobPage(Response):
    items: list[JobOut]
    total: int
    offset: int
    limit: int


# -- users, groups, accounts --------------------------------------------------------------
class UserQuery(PageQuery):
    """The user list's selection (SavaPage §4.4.1): ``search`` is a fragment of the user
    id or an email; ``any`` is the either choice; ``status=live`` (the default) is every
    user not deleted."""

    order: Order = "asc"
    search: Annotated[str, Field(min_length=1, max_length=255), Printable] | None = None
    group: Name | None = None
    admin: bool | None = None
    type: Literal["internal", "external", "any"] = "any"
    role: Literal["admin", "user", "any"] = "any"
    status: Literal["live", "active", "disabled", "deleted", "any"] = "live"
    sort: Literal["username", "email", "created_at", "balance"] = "username"


class UserOut(Response):
    id: str
    username: str
    full_name: str
    email: str | None
    internal: bool
    admin: bool
    disabled: bool
    created_at: Time
    groups: list[str]
    balance: int
    currency: str
    restricted: bool
    credit_limit: int


class Pagometer(Response):
    """Pages printed (mono, colour), pages of jobs that never printed, jobs and bytes
    printed since ``pagometer_since``; bytes of the user's held documents now."""

    mono: int
    colour: int
    pages: int
    unprinted: int
    jobs: int
    bytes: int
    held_bytes: int


class UserListItem(UserOut):
    deleted: bool
    account_id: str
    pagometer_since: Time
    pagometer: Pagometer


class UserPage(Response):
    items: list[UserListItem]
    total: int
    offset: int
    limit: int


class GroupOut(Response):
    name: str
    members: int
    initial_balance: int
    initial_restricted: bool
    initial_credit_limit: int
    quota_period: str
    quota_amount: int


class GroupList(Response):
    items: list[GroupOut]


class GroupRights(Request):
    rights: dict[SectionName, AccessName]


class GroupRightsOut(Response):
    group: str
    rights: dict[SectionName, AccessName]


class AccountQuery(PageQuery):
    order: Order = "asc"
    kind: Literal["personal", "shared"] | None = None
    sort: Literal["name", "balance", "created_at"] = "name"


class AccountOut(Response):
    id: str
    kind: Literal["personal", "shared"]
    name: str
    code: str | None
    owner: str | None
    currency: str
    balance: int
    restricted: bool
    credit_limit: int
    disabled: bool
    created_at: Time


class AccountPage(Response):
    items: list[AccountOut]
    total: int
    offset: int
    limit: int


class TransactionQuery(PageQuery):
    kind: Annotated[str, Field(min_length=1, max_length=16), Printable] | None = None
    sort: Literal["id", "created_at", "amount"] = "id"


class TransactionOut(Response):
    id: int
    amount: int
    balance_after: int
    kind: str
    reason: str
    actor: str
    job_uuid: str | None
    created_at: Time


class TransactionPage(Response):
    items: list[TransactionOut]
    total: int
    offset: int
    limit: int


class Adjustment(Request):
    amount: Annotated[int, Field(strict=True, ge=-10**12, le=10**12,
                                 description="minor units; negative debits")]
    reason: Annotated[str, Field(min_length=1, max_length=500), Printable]
    key: Annotated[str, Field(min_length=1, max_length=128,
                              description="retries with the same key apply once"),
                   Printable] | None = None


Problem.model_rebuild()


class AdminRole(Request):
    admin: bool = Field(description="true: grant the admin role; false: take it back")


class PasswordChange(Request):
    current_password: Annotated[str, Field(min_length=1, max_length=1024),
                                AfterValidator(_no_nul)]
    new_password: Annotated[str, Field(min_length=1, max_length=1024), AfterValidator(_no_nul)]
