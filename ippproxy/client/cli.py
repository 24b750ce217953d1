"""``ippproxy-client``: the command line (``[project.scripts]``), and its exit codes:
0 done, 1 the server refused an answer, 2 a failure the user must fix (login, options,
certificate), 3 ``--timeout`` ran out."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from pathlib import Path

import aiohttp

from ippproxy.client import answers
from ippproxy.client.api import Api, GetPassword
from ippproxy.client.errors import ClientFailure, Refused
from ippproxy.client.login import tls_context
from ippproxy.client.notify import Notifier
from ippproxy.client.popups import as_json, render
from ippproxy.client.prompt import ask_line, ask_secret
from ippproxy.client.runner import Choices, Runner
from ippproxy.client.store import TokenStore, config_dir
from ippproxy.client.stream import follow

OK, REFUSED, FAILED, TIMED_OUT = 0, 1, 2, 3
LOCAL_BASE = "http://localhost"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ippproxy-client",
        description="Your print jobs' popups (account selection, confirmation), your "
                    "balance and messages from an ippproxy server.")
    p.add_argument("server", nargs="?",
                   help="the server's base URL, e.g. https://print.example:631 (or --socket)")
    p.add_argument("--socket", type=Path, metavar="PATH",
                   help="talk to the server on this machine over its local socket "
                        "(server.unix_socket) instead of a URL")
    p.add_argument("--desktop-login", action="store_true",
                   help="log in as the desktop user (the account running this client), "
                        "where the admin trusts that (users.trust_desktop_user); needs "
                        "--socket, asks for no password")
    p.add_argument("--user", help="log in as this user (else the saved login is used)")
    p.add_argument("--password-file", type=Path,
                   help="read the password from this file ('-': stdin) instead of asking")
    p.add_argument("--cafile", type=Path,
                   help="trust this CA (or the server's self-signed certificate) instead "
                        "of the system's CAs; the certificate is always checked")
    p.add_argument("--config-dir", type=Path,
                   help="where the login is kept (default: the user's config directory)")
    p.add_argument("--answer-account", metavar="NAME",
                   help="answer every account popup with this account (name, code, "
                        "'personal', or 'code:CODE' to type a code not in the list)")
    p.add_argument("--account-pin-file", type=Path, metavar="FILE",
                   help="the --answer-account account's PIN, read from this file ('-': "
                        "stdin); a PIN is never taken on the command line")
    p.add_argument("--answer-as-user", metavar="NAME",
                   help="answer every account popup by printing as this other user (where "
                        "the printer offers it), with --as-user-password-file")
    p.add_argument("--as-user-password-file", type=Path, metavar="FILE",
                   help="the --answer-as-user user's password, read from this file ('-': "
                        "stdin); never taken on the command line")
    p.add_argument("--answer", choices=("confirm", "cancel"),
                   help="answer every confirmation popup")
    p.add_argument("--confirm-identity", action="store_true",
                   help="answer every 'who printed this' popup (a printer with popup "
                        "authentication) as --user, with the password of --password-file")
    p.add_argument("--job", metavar="UUID",
                   help="answer this job now (with --answer-account or --answer) and exit")
    p.add_argument("--once", action="store_true", help="exit after the first popup")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--timeout", type=float, help="give up after this many seconds (exit 3)")
    p.add_argument("--no-notify", action="store_true", help="no desktop notifications")
    p.add_argument("--logout", action="store_true", help="forget the saved login and exit")
    return p


def _read_secret(path: Path) -> str | None:
    """The first line of ``path`` ('-': stdin), None when empty."""
    text = sys.stdin.readline() if str(path) == "-" else path.read_text(encoding="utf-8")
    return text.splitlines()[0] if text.strip() else None


def _password_source(path: Path | None, user: str | None) -> GetPassword:
    """The password, asked (or read from ``path``; '-': stdin) once and kept for this run
    only (never written anywhere)."""
    known: list[str | None] = []

    async def read() -> str | None:
        if known and known[0]:
            return known[0]
        if path is None:
            known[:] = [await ask_secret(f"Password for {user}: ")]
        else:
            known[:] = [_read_secret(path)]
        return known[0]
    return read


async def _ask_code() -> str | None:
    return await ask_line("Code from your authenticator app: ")


def _where(args: argparse.Namespace) -> tuple[str, str]:
    """(the base URL of requests, the key the login is kept under)."""
    if args.desktop_login and (args.socket is None or args.user is not None):
        raise ClientFailure("--desktop-login needs --socket (the server's local socket "
                            "proves who you are; a network connection cannot) and no --user")
    if args.socket is not None:
        if args.server is not None:
            raise ClientFailure("give the server's URL or --socket, not both")
        if args.cafile is not None:   # said, not silently dropped: no TLS on the socket
            raise ClientFailure("--cafile checks a server over the network; the local "
                                "socket has no certificate")
        # The host is not looked up: the socket carries the request (Host: localhost).
        return LOCAL_BASE, f"unix:{args.socket.absolute()}"
    if args.server is None:
        raise ClientFailure("give the server's URL (https://...) or --socket PATH")
    base = args.server.rstrip("/")
    if not base.startswith("https://"):
        raise ClientFailure("the server's URL must start with https:// (your password "
                            "and your token travel over it)")
    return base, base


def _connector(args: argparse.Namespace) -> aiohttp.BaseConnector:
    """The local socket needs no TLS: the kernel carries it between two processes of this
    machine, and the server knows this process's uid from it (SO_PEERCRED). Over the
    network the server's certificate is always checked."""
    if args.socket is not None:
        return aiohttp.UnixConnector(path=str(args.socket), limit=4)
    return aiohttp.TCPConnector(ssl=tls_context(args.cafile), limit=4)


async def run(args: argparse.Namespace) -> int:
    base, key = _where(args)
    store = TokenStore(args.config_dir or config_dir())
    if args.logout:
        store.forget(key)
        return OK
    async with aiohttp.ClientSession(connector=_connector(args),
                                     timeout=aiohttp.ClientTimeout(total=60)) as http:
        password = _password_source(args.password_file, args.user)
        api = Api(http, base, store, args.user, password, _ask_code, key=key,
                  desktop=args.desktop_login)
        await api.ready()
        identity = None
        if args.confirm_identity:
            secret = await password()
            if args.user is None or args.password_file is None or not secret:
                raise ClientFailure("--confirm-identity needs --user and --password-file")
            identity = (args.user, secret)
        pin = None
        if args.account_pin_file is not None:
            if args.answer_account is None:
                raise ClientFailure("--account-pin-file goes with --answer-account")
            pin = _read_secret(args.account_pin_file)
        as_user = None
        if args.answer_as_user is not None:
            other = None if args.as_user_password_file is None else \
                _read_secret(args.as_user_password_file)
            if other is None or args.answer_account is not None:
                raise ClientFailure("--answer-as-user needs --as-user-password-file, and "
                                    "no --answer-account")
            as_user = (args.answer_as_user, other)
        if args.job:
            return await _answer_job(api, args, pin, as_user)
        interactive = (sys.stdin.isatty() and not args.json and args.answer_account is None
                       and args.answer is None and as_user is None)
        stop = asyncio.Event()
        runner = Runner(api, Choices(args.answer_account, args.answer, interactive,
                                     args.json, args.once, identity, pin, as_user),
                        Notifier(not args.no_notify and sys.stdout.isatty()), stop)
        tasks = [asyncio.create_task(follow(api, runner.on_event, runner.status, stop)),
                 asyncio.create_task(runner.popups()),
                 asyncio.create_task(stop.wait())]
        try:
            done, _ = await asyncio.wait(tasks, timeout=args.timeout,
                                         return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await t
        for t in done:
            failure = None if t.cancelled() else t.exception()
            if failure is not None:
                raise failure
        if not done:
            return TIMED_OUT
        return REFUSED if runner.refused else OK


async def _answer_job(api: Api, args: argparse.Namespace, pin: str | None,
                      as_user: tuple[str, str] | None) -> int:
    if as_user is not None:
        result = await answers.print_as(api, args.job, *as_user)
    elif args.answer_account is not None:
        code, needs_pin = await answers.account_by_name(api, args.answer_account)
        if needs_pin is not False and pin is None and sys.stdin.isatty():
            pin = await ask_secret(f"PIN of account {code}: ")
        result = await answers.choose_account(api, args.job, code, pin)
    elif args.answer is not None:
        result = await answers.confirm(api, args.job, args.answer == "confirm")
    else:
        raise ClientFailure("--job needs --answer-account, --answer-as-user or --answer")
    data = {"uuid": args.job, "state": result.get("state"),
            "account": result.get("account"), "job_id": result.get("job_id")}
    print(as_json("answered", data) if args.json else render("answered", data), flush=True)
    return OK


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return asyncio.run(run(args))
    except Refused as e:
        if args.json:
            print(as_json("refused", {"uuid": args.job, "status": e.status,
                                      "detail": e.detail}), flush=True)
        print(f"ippproxy-client: refused ({e.status}): {e.detail}", file=sys.stderr)
        return REFUSED
    except ClientFailure as e:
        print(f"ippproxy-client: {e.message}", file=sys.stderr)
        return FAILED
    except aiohttp.ClientConnectorCertificateError as e:
        print(f"ippproxy-client: the server's certificate is not trusted: {e.certificate_error}"
              " (see --cafile)", file=sys.stderr)
        return FAILED
    except (aiohttp.ClientError, OSError) as e:
        print(f"ippproxy-client: cannot reach {args.server or args.socket}: {e}",
              file=sys.stderr)
        return FAILED
    except KeyboardInterrupt:
        return OK


if __name__ == "__main__":
    sys.exit(main())
