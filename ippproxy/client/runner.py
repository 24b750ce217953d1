"""The client's loop: every event of the stream shown (text or ``--json``), each popup
handled once, one at a time, in the order asked:

* ``--answer-account NAME`` / ``--answer confirm|cancel`` answer it without asking
  (scripts, tests);
* in a terminal (stdin a TTY, no ``--json``) the user types the answer, with the popup's
  countdown until its deadline;
* otherwise it is shown only (the user may answer in the web app).

A popup whose job was answered elsewhere (another client, the web app) or that ended is
dropped. ``--once`` ends the client after the first popup it handled."""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import dataclass
from typing import Any

from ippproxy.client import answers
from ippproxy.client.api import Api
from ippproxy.client.errors import ClientFailure, Refused
from ippproxy.client.notify import Notifier
from ippproxy.client.popups import (
    ACCOUNT_NEEDED,
    IDENTITY_NEEDED,
    JOB_STATE,
    QUESTIONS,
    as_json,
    clean,
    render,
    seconds_left,
)
from ippproxy.client.prompt import Prompter

AS_USER = "as:"   # "as:bob": print as another user (their password asked)
from ippproxy.client.sse import Event


@dataclass(frozen=True)
class Choices:
    account: str | None      # --answer-account
    confirm: str | None      # --answer: "confirm" or "cancel"
    interactive: bool
    json: bool
    once: bool
    identity: tuple[str, str] | None = None   # --confirm-identity: (name, password)
    pin: str | None = None   # --account-pin-file: the --answer-account account's PIN
    as_user: tuple[str, str] | None = None   # --answer-as-user: (name, password)


class Runner:
    def __init__(self, api: Api, choices: Choices, notifier: Notifier,
                 stop: asyncio.Event) -> None:
        self.api = api
        self.choices = choices
        self.notifier = notifier
        self.stop = stop
        self.prompter = Prompter()
        self.queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
        self.seen: set[str] = set()       # jobs whose popup was queued
        self.ended: set[str] = set()      # jobs no longer waiting (answered elsewhere)
        self.refused = False

    def emit(self, kind: str, data: dict[str, Any]) -> None:
        print(as_json(kind, data) if self.choices.json else render(kind, data), flush=True)

    def status(self, text: str) -> None:
        if self.choices.json:
            print(as_json("connection", {"status": text}), flush=True)
        else:
            print(f"[{text}]", file=sys.stderr, flush=True)

    async def on_event(self, event: Event) -> None:
        try:
            data = json.loads(event.data)
        except ValueError:
            return
        if not isinstance(data, dict):
            return
        self.emit(event.kind, data)
        uuid = str(data.get("uuid", ""))
        if event.kind == JOB_STATE and data.get("state") != "pending-held":
            self.ended.add(uuid)
        if event.kind in QUESTIONS and uuid and uuid not in self.seen:
            self.seen.add(uuid)
            self.ended.discard(uuid)
            title = {ACCOUNT_NEEDED: "Print job waiting", IDENTITY_NEEDED: "Did you print this?"}
            await self.notifier.show(title.get(event.kind, "Print this job?"),
                                     render(event.kind, data))
            self.queue.put_nowait((event.kind, data))

    async def popups(self) -> None:
        while not self.stop.is_set():
            kind, data = await self.queue.get()
            uuid = str(data["uuid"])
            if uuid in self.ended:
                continue
            handled = await self.handle(kind, data, uuid)
            if not handled:
                self.seen.discard(uuid)   # asked again after a reconnect: shown again
            if self.choices.once and handled:
                self.stop.set()

    async def handle(self, kind: str, data: dict[str, Any], uuid: str) -> bool:
        """Answer one popup; False when it was left unanswered."""
        try:
            if kind == ACCOUNT_NEEDED:
                if self.choices.as_user is not None:
                    result = await answers.print_as(self.api, uuid, *self.choices.as_user)
                    return self._answered(uuid, result)
                wanted = self.choices.account or await self._typed(
                    f"Account for job {clean(data.get('job_id'))} (number, code:CODE"
                    f"{', as:NAME' if data.get('print_as_other') else ''}; Enter: not now):",
                    data)
                if not wanted:
                    return self.choices.once and not self.choices.interactive
                if wanted.casefold().startswith(AS_USER):
                    other = await self._as_user(wanted[len(AS_USER):].strip())
                    if other is None:
                        return False
                    return self._answered(uuid, await answers.print_as(
                        self.api, uuid, *other))
                code, needs_pin = answers.resolve(list(data.get("choices", [])), wanted)
                result = await answers.choose_account(
                    self.api, uuid, code, await self._pin(code, needs_pin))
            elif kind == IDENTITY_NEEDED:
                who = self.choices.identity or await self._credentials(data)
                if who is None:
                    return self.choices.once and not self.choices.interactive
                result = await answers.identify(self.api, uuid, *who)
            else:
                wanted = self.choices.confirm or await self._typed(
                    f"Job {clean(data.get('job_id'))}: [p]rint or [c]ancel (Enter: not now):",
                    data)
                if not wanted:
                    return self.choices.once and not self.choices.interactive
                go = wanted.strip().casefold() in ("p", "print", "confirm", "y", "yes")
                result = await answers.confirm(self.api, uuid, go)
        except Refused as e:
            self.refused = True
            self.emit("refused", {"uuid": uuid, "status": e.status, "detail": e.detail})
            return True
        except ClientFailure as e:
            self.refused = True
            self.emit("refused", {"uuid": uuid, "status": None, "detail": e.message})
            return True
        return self._answered(uuid, result)

    def _answered(self, uuid: str, result: Any) -> bool:
        self.ended.add(uuid)
        self.emit("answered", {"uuid": uuid, "state": result.get("state"),
                               "account": result.get("account"),
                               "job_id": result.get("job_id")})
        return True

    async def _as_user(self, name: str) -> tuple[str, str] | None:
        """Typed "as:NAME": that user's password, asked without echo."""
        password = await self.prompter.secret(f"Password of {clean(name, 64)}:") \
            if name else None
        return (name, password) if password else None

    async def _pin(self, code: str | None, needs_pin: bool | None) -> str | None:
        """The account's PIN: the given one (``--account-pin-file``), else asked without
        echo where the account needs it (or may: a typed code, Enter for none)."""
        if code is None:
            return None
        if self.choices.pin is not None or not self.choices.interactive or \
                needs_pin is False:
            return self.choices.pin
        hint = " (Enter: none)" if needs_pin is None else ""
        return await self.prompter.secret(f"PIN of account {clean(code, 64)}{hint}:") or None

    async def _credentials(self, data: dict[str, Any]) -> tuple[str, str] | None:
        """Typed: the user name (Enter: the logged-in user) and the password (not echoed)."""
        default = self.api.saved.user if self.api.saved else ""
        name = await self._typed(f"User name [{clean(default, 64)}] (\"-\": not now):", data)
        if name == "-":
            return None
        password = await self.prompter.secret("Password:") if self.choices.interactive \
            else None
        return (name or default, password) if password else None

    async def _typed(self, question: str, data: dict[str, Any]) -> str | None:
        if not self.choices.interactive:
            return None
        answer = await self.prompter.ask(question, seconds_left(data.get("deadline")))
        return clean(answer, 100) if answer else None
