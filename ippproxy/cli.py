"""The ``ippproxy`` command: serve, check-config, inspect, cmd.

Subcommands import their package lazily so that ``ippproxy check-config`` works
without touching the database and ``ippproxy inspect`` without the server.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import shlex
import sys
from collections.abc import Callable, Collection, Coroutine, Sequence
from pathlib import Path
from typing import Any

from ippproxy.config import Config, ConfigError, embedded_default, load
from ippproxy.logformat import FORMATS as LOG_FORMATS
from ippproxy.logformat import configure as configure_logging


def _load_or_default(path: str | None) -> Config:
    return load(path) if path else embedded_default()


def config_problem(path: str | None, e: ConfigError) -> str:
    """``FILE: KEY: reason`` (a file-level error names the file itself)."""
    return f"{path}: {e}" if path and e.key else str(e)


def _with_ports(cfg: Config, port: int | None, vp_port: int | None) -> Config:
    """``--port`` / ``--virtual-printer-port``: another port than the file's (or the
    embedded default's 8631 and 8632), e.g. when those are taken."""
    if port is not None:
        cfg = dataclasses.replace(cfg, server=dataclasses.replace(cfg.server, port=port))
    if vp_port is not None:
        cfg = dataclasses.replace(cfg, virtual_printer=dataclasses.replace(
            cfg.virtual_printer, port=vp_port))
    return cfg


def sample_document() -> Path:
    """The one-page PDF shipped in the package, for the ready line's print command."""
    return Path(__file__).resolve().parent / "samples" / "hello.pdf"


def ready_banner(cfg: Config, addresses: list[tuple[str, int]]) -> str:
    """What ``ippproxy serve`` prints once it accepts connections: where it listens and a
    print command that works as printed from any directory (an absolute document path)."""
    port = addresses[0][1] if addresses else cfg.server.port
    listen = cfg.server.listen
    host = cfg.server.hostname or ("localhost" if listen in ("127.0.0.1", "0.0.0.0", "::",
                                                            "::1", "", "localhost")
                                   else (f"[{listen}]" if ":" in listen else listen))
    first = cfg.queues[0].name
    uri = f"ipp://{host}:{port}/printers/{first}"
    doc = shlex.quote(str(sample_document()))
    lines = [(f"ippproxy ready: listening on "
             f"{', '.join(f'{h}:{p}' for h, p in addresses)}; the file provisions "
             f"{len(cfg.queues)} queue(s) (more: `ippproxy cmd queue list`)")]
    lines += [f"  queue {q.name!r} -> {q.destination}" for q in cfg.queues]
    lines += ["Print a file to it with:",
              f"  ipptool -tv -f {doc} {uri} print-job.test",
              (f"  ipptool -tv -f {doc} ipps{uri.removeprefix('ipp')} print-job.test"
              "  (IPPS, same port)"),
              f"Web pages: https://{host}:{port}/admin"]
    tool = Path(sys.argv[0]).resolve()
    if tool.name == "ippproxy":
        lines.append(f"Command tool: {tool} cmd --help")
    return "\n".join(lines)


def _port(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError("a port number, 1 to 65535")
    return value


def fail(command: str, reason: str) -> int:
    """A configuration or start-up error: one line on stderr, exit status 2."""
    print(f"{command}: {reason}", file=sys.stderr, flush=True)
    return 2


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        cfg = _with_ports(_load_or_default(args.config), args.port, args.virtual_printer_port)
    except ConfigError as e:
        return fail("ippproxy serve", f"bad configuration: {config_problem(args.config, e)}")
    configure_logging(args.log_level, args.log_format)
    from ippproxy.app import StartupError, serve
    from ippproxy.supervisor import serve_workers, worker_count

    def ready(addresses: list[tuple[str, int]]) -> None:
        print(ready_banner(cfg, addresses), flush=True)

    try:
        if worker_count(cfg) > 1:
            serve_workers(cfg, _run, ready=ready)
        else:
            _run(serve(cfg, ready=ready))
    except StartupError as e:
        return fail("ippproxy serve", str(e))
    except KeyboardInterrupt:
        pass
    return 0


def _run(main: Coroutine[Any, Any, None]) -> None:
    """Run on uvloop when it is installed (a faster event loop; same asyncio semantics)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency; plain asyncio still works
        asyncio.run(main)
        return
    uvloop.run(main)


def cmd_check_config(args: argparse.Namespace) -> int:
    try:
        cfg = load(args.file)
    except ConfigError as e:
        return fail("ippproxy check-config", config_problem(args.file, e))
    print(f"{args.file}: OK ({len(cfg.queues)} queue(s): "
          f"{', '.join(q.name for q in cfg.queues)})")
    return 0


def _take_config(argv: list[str]) -> tuple[str | None, list[str]]:
    """``--config FILE`` (or ``--config=FILE``) out of ``argv``, before the subcommand."""
    rest: list[str] = []
    path: str | None = None
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--config" and i + 1 < len(argv):
            path, i = argv[i + 1], i + 2
            continue
        if arg.startswith("--config="):
            path = arg.split("=", 1)[1]
        else:
            rest.append(arg)
        i += 1
    return path, rest


def _catalog_cmd(rest: list[str], path: str | None, cfg: Config) -> int:
    from ippproxy.services.cmd import main as catalog_main

    return catalog_main(rest, cfg)


def _user_list_cmd(rest: list[str], path: str | None, cfg: Config) -> int:
    from ippproxy.services.usercmd import main as user_main

    return user_main(rest, cfg)


def _admin_password_cmd(rest: list[str], path: str | None, cfg: Config) -> int:
    from ippproxy.services.admincmd import main as set_password_main

    words = rest[1:]
    if path and "--database" not in words and not any(
            w.startswith("--database=") for w in words):
        words = [*words, "--config", path]
    return set_password_main(words)


def _flag_value(argv: list[str], flag: str) -> str | None:
    for i, arg in enumerate(argv):
        if arg == flag and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(f"{flag}="):
            return arg.split("=", 1)[1]
    return None


def _accounting_cmd(rest: list[str], path: str | None, cfg: Config) -> int:
    """Users, accounts and the ledger, on the configuration's database, currency and
    minor unit unless given on the line (with --database too, amounts are read in the
    configuration's minor unit); a new user's password is asked for when a queue
    authenticates (in the file or in the catalog)."""
    from ippproxy.accounting.cmd import main as accounting_main

    a = cfg.accounting
    for flag, value in (("--database", cfg.storage.database), ("--currency", a.currency),
                        ("--exponent", str(a.minor_unit_digits))):
        if flag not in rest and not any(x.startswith(f"{flag}=") for x in rest):
            rest = [flag, value, *rest]
    if "add-internal-user" in rest:  # [users]: the id prefix, the password's length
        rest = [*rest, "--username-prefix", cfg.users.username_prefix,
                "--password-length-min", str(cfg.users.password_length_min)]
    if "add-internal-user" in rest and "--password-file" not in rest:
        from ippproxy.services.cmd import queues_authenticate

        if queues_authenticate(cfg, _flag_value(rest, "--database") or cfg.storage.database):
            rest = [*rest, "--password-used"]
    return accounting_main(rest)


def _sync_users_cmd(rest: list[str], path: str | None, cfg: Config) -> int:
    from ippproxy.services.synccmd import main as sync_main

    return sync_main(rest, cfg)


@dataclasses.dataclass(frozen=True)
class CmdFamily:
    """Subcommands of ``ippproxy cmd`` run by one module: ``words`` are the first words
    it takes (None: every word no other family takes)."""

    words: Callable[[], Collection[str]] | None
    run: Callable[[list[str], str | None, Config], int]
    help: Callable[[Config], int] | None = None


def _catalog_words() -> Collection[str]:
    from ippproxy.services.cmd import GROUPS

    return GROUPS


def _user_cmd(rest: list[str], path: str | None, cfg: Config) -> int:
    from ippproxy.services.user_cmd import main as user_main

    return user_main(rest, cfg)


def _user_words() -> Collection[str]:
    from ippproxy.services.user_cmd import WORDS

    return WORDS


# The families, tried in order: the command registration table. Another family (a new
# module's subcommands) is one more row here.
CMD_FAMILIES: list[CmdFamily] = [
    CmdFamily(lambda: ("set-password",), _admin_password_cmd),
    CmdFamily(lambda: ("sync-users",), _sync_users_cmd),
    CmdFamily(_user_words, _user_cmd, lambda cfg: _user_cmd(["--help"], None, cfg)),
    CmdFamily(lambda: ("reset-pagometers",), _user_list_cmd),
    CmdFamily(_catalog_words, _catalog_cmd, lambda cfg: _catalog_cmd(["--help"], None, cfg)),
    CmdFamily(None, _accounting_cmd, lambda cfg: _accounting_cmd(["--help"], None, cfg)),
]


def cmd(argv: list[str]) -> int:
    """``ippproxy cmd [--config FILE] ...``: the first word picks the family of
    subcommands (``CMD_FAMILIES``), given the database and currency of FILE."""
    path, rest = _take_config(argv)
    try:
        cfg = _load_or_default(path)
    except ConfigError as e:
        return fail("ippproxy cmd", f"bad configuration: {config_problem(path, e)}")
    words = [w for i, w in enumerate(rest)
             if not w.startswith("-") and not (i and rest[i - 1] == "--database")]
    if not words and ("-h" in rest or "--help" in rest):   # every family's help
        helps = [f.help for f in CMD_FAMILIES if f.help is not None]
        for i, show in enumerate(helps):
            if i:
                print()
            show(cfg)
        return 0
    for family in CMD_FAMILIES:
        if family.words is None or (words[:1] and words[0] in family.words()):
            return family.run(rest, path, cfg)
    return 2  # pragma: no cover - the last family takes every word


def export_config(argv: list[str]) -> int:
    """``ippproxy export-config [--config FILE] [--output FILE]``."""
    parser = argparse.ArgumentParser(
        prog="ippproxy export-config",
        description="Write the database's queues, cost models, groups, rules and options "
                    "as provisioning TOML (check-config accepts it).")
    parser.add_argument("--config", help="TOML config file naming the database "
                        "(default: the embedded default)")
    parser.add_argument("--output", "-o", help="file to write (default: standard output)")
    try:
        args = parser.parse_args(argv)
        cfg = _load_or_default(args.config)
    except SystemExit as e:
        return int(e.code or 0)
    except ConfigError as e:
        return fail("ippproxy export-config",
                    f"bad configuration: {config_problem(args.config, e)}")
    from ippproxy.services.cmd import export_text

    text = export_text(cfg)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # inspect and cmd own their argument parsing.
    if argv[:1] == ["inspect"]:
        from ippproxy.filters.inspect import main as inspect_main

        return inspect_main(argv[1:])
    if argv[:1] == ["cmd"]:
        return cmd(argv[1:])
    if argv[:1] == ["export-config"]:
        return export_config(argv[1:])

    parser = argparse.ArgumentParser(prog="ippproxy", description="IPP print-management server")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="run the server")
    p.add_argument("--config", help="TOML config file (default: the embedded default)")
    p.add_argument("--log-level", default="info",
                   choices=["debug", "info", "warning", "error"])
    p.add_argument("--log-format", default="text", choices=LOG_FORMATS,
                   help="text lines, or one JSON object per line")
    p.add_argument("--port", type=_port, help="serve IPP, IPPS and HTTPS on this port "
                   "instead of server.port")
    p.add_argument("--virtual-printer-port", type=_port, help="the built-in virtual "
                   "printer's port instead of virtual_printer.port")
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("check-config", help="validate a TOML config file")
    p.add_argument("file")
    p.set_defaults(func=cmd_check_config)
    sub.add_parser("inspect", help="count pages and colour of a document (see --help)")
    sub.add_parser("cmd", help="server command tool: queues, cost models, rules, options, "
                   "groups, audit; users, accounts, ledger (see --help)")
    sub.add_parser("export-config", help="write the database's queues, cost models, groups, "
                   "rules and options as provisioning TOML (see --help)")
    args = parser.parse_args(argv)
    rc: int = args.func(args)
    return rc


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
