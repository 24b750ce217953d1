"""The REST models of editing, creating, deleting and erasing a user (issue 18;
``web.user_edit_api``). Secrets (PIN, password) go in, never out."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ippproxy.web.models import Name, Printable, Request, Response

Secret = Annotated[str, Field(max_length=1024)]


class UserEditOut(Response):
    username: str
    full_name: str
    internal: bool
    admin: bool
    disabled: bool
    person: bool
    emails: list[str]
    card_number: str | None
    id_number: str | None
    pin_set: bool
    password_set: bool
    uuid_token: str | None
    balance: int
    currency: str
    credit_source: Literal["none", "group", "individual"]
    credit_limit: int
    restricted: bool
    source: str
    sync_overwrites: list[str] = Field(
        description="fields the next directory sync will overwrite (ldap.overwrite)")
    erased_at: str | None


class UserPatch(Request):
    full_name: Annotated[str, Field(max_length=255), Printable] | None = None
    admin: bool | None = None
    person: bool | None = None
    disabled: bool | None = None
    emails: Annotated[str, Field(max_length=4096, description=(
        "primary first; separated by space, comma, semicolon, CR or LF"))] | list[
            Annotated[str, Field(max_length=254)]] | None = None
    card_number: Annotated[str, Field(max_length=200), Printable] | None = None
    card_format: Literal["hex", "dec"] = "hex"
    card_order: Literal["lsb", "msb"] = "lsb"
    id_number: Annotated[str, Field(max_length=64), Printable] | None = None
    pin: Annotated[str, Field(max_length=64, description="digits; \"\" removes it")] | None \
        = None
    password: Annotated[Secret, Field(description="\"\" erases it")] | None = None
    credit_source: Literal["none", "group", "individual"] | None = None
    credit_limit: Annotated[int, Field(strict=True, ge=0, le=10**12)] | None = None


class BalanceSet(Request):
    balance: Annotated[int, Field(strict=True, ge=-10**12, le=10**12,
                                  description="the new balance, minor units")]
    reason: Annotated[str, Field(min_length=1, max_length=500), Printable]
    key: Annotated[str, Field(min_length=1, max_length=128), Printable] | None = None


class NewInternalUser(Request):
    username: Name
    password: Secret
    full_name: Annotated[str, Field(max_length=255), Printable] = ""
    emails: Annotated[str, Field(max_length=4096)] = ""


class Created(Response):
    username: str


class Deleted(Response):
    username: str
    id: str
    deleted: Literal["logical", "physical"]


class Erased(Response):
    username: str
    id: str
    erased_at: str
