"""``ippproxy cmd ARGS`` run inside the test process, for the tests that use the command tool
to set up or read back what they check (users, accounts, prices, ledgers), not to test it.

It is the console script's own entry point (``ippproxy.cli.main``) with the same arguments,
stdin, stdout, stderr and exit code; what it leaves out is a new interpreter, whose imports
cost about a second per call, a few hundred times per suite. The tool itself, as a process
(its exit codes, what it prints, reading a terminal), is tested by ``tests/test_cli_cmd.py``
and ``tests/services/test_*cmd*.py`` through the real subprocess.

Each call runs on a thread of its own: the tool calls ``asyncio.run``, which refuses to
start inside a running event loop (an async test's). The standard streams are swapped for
the call, so calls are serialised by a lock."""

from __future__ import annotations

import io
import subprocess
import sys
import threading
from collections.abc import Sequence

from ippproxy.cli import main

_LOCK = threading.Lock()


def run_cmd(argv: Sequence[str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    """``ippproxy cmd *argv``: what a ``subprocess.run(..., capture_output=True,
    text=True)`` of the console script would return."""
    args = ["cmd", *argv]
    out, err = io.StringIO(), io.StringIO()
    code: list[int] = []

    def call() -> None:
        try:
            code.append(main(args))
        except SystemExit as e:     # argparse's --help and usage errors
            code.append(e.code if isinstance(e.code, int) else (0 if e.code is None else 2))

    with _LOCK:
        saved = sys.stdin, sys.stdout, sys.stderr
        sys.stdin, sys.stdout, sys.stderr = io.StringIO(stdin), out, err
        try:
            worker = threading.Thread(target=call, name="ippproxy-cmd")
            worker.start()
            worker.join()
        finally:
            sys.stdin, sys.stdout, sys.stderr = saved
    assert code, f"ippproxy cmd {' '.join(args[1:])} raised:\n{err.getvalue()}"
    return subprocess.CompletedProcess(["ippproxy", *args], code[0], out.getvalue(),
                                       err.getvalue())
