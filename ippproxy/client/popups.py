"""What the user is shown: the events of ``/api/v1/me/events`` as terminal text (or one
JSON object a line with ``--json``). Every text from the server (document names, account
names, messages) came from other programs and is untrusted: control characters are
replaced before it reaches the terminal, so no escape sequence can rewrite the screen."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

ACCOUNT_NEEDED = "account-needed"
CONFIRM_NEEDED = "confirm-needed"
BALANCE = "balance"
LOW_CREDIT = "low-credit"
JOB_STATE = "job-state"
IDENTITY_NEEDED = "identity-needed"
QUESTIONS = frozenset({ACCOUNT_NEEDED, CONFIRM_NEEDED, IDENTITY_NEEDED})
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def clean(value: Any, limit: int = 200) -> str:
    text = _CONTROL.sub("?", "" if value is None else str(value))
    return text if len(text) <= limit else text[:limit - 1] + "…"


def money(minor: Any, currency: Any, digits: int = 2) -> str:
    if not isinstance(minor, int):
        return "?"
    sign = "-" if minor < 0 else ""
    whole, part = divmod(abs(minor), 10 ** digits)
    return f"{sign}{whole}.{part:0{digits}d} {clean(currency, 8)}"


def seconds_left(deadline: Any, now: dt.datetime | None = None) -> float | None:
    """Seconds until the popup's ``deadline`` (ISO 8601); None when it has none."""
    if not isinstance(deadline, str):
        return None
    try:
        at = dt.datetime.fromisoformat(deadline)
    except ValueError:
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return (at - (now or dt.datetime.now(dt.UTC))).total_seconds()


def countdown(left: float | None) -> str:
    if left is None:
        return ""
    if left <= 0:
        return "time is up: the job will be deleted"
    minutes, seconds = divmod(int(left), 60)
    return f"{minutes}:{seconds:02d} left to answer"


def job_line(d: dict[str, Any]) -> str:
    head = f"job {clean(d.get('job_id'))} \"{clean(d.get('name'))}\""
    parts = [f"{head} on {clean(d.get('printer'))}"]
    if d.get("pages") is not None:
        parts.append(f"{clean(d.get('pages'))} page(s)")
    if d.get("colour_impressions"):
        parts.append(f"{clean(d.get('colour_impressions'))} in colour")
    if d.get("cost"):
        parts.append(f"cost {clean(d.get('cost'))}")
    return ", ".join(parts)


def choice_label(c: dict[str, Any]) -> str:
    who = "personal account" if c.get("code") is None else f"code {clean(c.get('code'))}"
    pin = ", needs its PIN" if c.get("pin") else ""
    return f"{clean(c.get('name'))} ({who}, balance " \
        f"{money(c.get('balance'), c.get('currency'))}{pin})"


def render(kind: str, d: dict[str, Any]) -> str:
    """The text of one event for the terminal."""
    if kind == BALANCE:
        return "Balance: " + "; ".join(
            f"{clean(a.get('name'))} {money(a.get('balance'), a.get('currency'))}"
            for a in d.get("accounts", []))
    if kind == LOW_CREDIT:
        return (f"Low credit: your balance is {money(d.get('balance'), d.get('currency'))}, "
                f"below {money(d.get('threshold'), d.get('currency'))}")
    if kind == ACCOUNT_NEEDED:
        lines = [f"Choose the account for {job_line(d)}"]
        if d.get("message"):
            lines.append(f"  {clean(d.get('message'), 400)}")
        lines += [f"  [{i}] {choice_label(c)}" for i, c in enumerate(d.get("choices", []), 1)]
        lines.append("  [code:CODE] an account by its code")
        if d.get("print_as_other"):
            lines.append("  [as:NAME] print as another user (their password)")
        left = countdown(seconds_left(d.get("deadline")))
        if left:
            lines.append(f"  {left}")
        return "\n".join(lines)
    if kind == IDENTITY_NEEDED:
        left = countdown(seconds_left(d.get("deadline")))
        return (f"Did you print {job_line(d)}? Confirm with your user name and password "
                f"(every job on this printer)" + (f"; {left}" if left else ""))
    if kind == CONFIRM_NEEDED:
        return f"Print {job_line(d)}? [p]rint or [c]ancel (cancel charges nothing)"
    if kind == JOB_STATE:
        text = f"Job {clean(d.get('job_id'))} \"{clean(d.get('name'))}\": " \
               f"{clean(d.get('state'))}"
        return text + (f" ({clean(d.get('message'), 300)})" if d.get("message") else "")
    if kind == "answered":
        return f"Answered: job {clean(d.get('job_id'))} is {clean(d.get('state'))}" + (
            f", charged to {clean(d.get('account'))}" if d.get("account") else "")
    if kind == "refused":
        return f"Refused: {clean(d.get('detail'), 400)}"
    return f"{clean(kind)}: {clean(json.dumps(d), 400)}"


def as_json(kind: str, d: dict[str, Any]) -> str:
    return json.dumps({"event": kind, "data": d}, sort_keys=True)
