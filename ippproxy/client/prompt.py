"""The terminal's side: lines typed by the user, read by a thread (``input`` blocks, and
a thread works the same on Linux, macOS and Windows), handed to the event loop; asking
with a deadline shows a countdown until it runs out."""

from __future__ import annotations

import asyncio
import getpass
import sys
import threading

from ippproxy.client.popups import countdown

TICK = 30.0


class Prompter:
    def __init__(self) -> None:
        self._lines: asyncio.Queue[str | None] = asyncio.Queue()
        self._started = False

    def _start(self) -> None:
        if self._started:
            return
        self._started = True
        loop = asyncio.get_running_loop()

        def read() -> None:
            for line in sys.stdin:
                loop.call_soon_threadsafe(self._lines.put_nowait, line.rstrip("\r\n"))
            loop.call_soon_threadsafe(self._lines.put_nowait, None)

        threading.Thread(target=read, name="stdin", daemon=True).start()

    async def ask(self, question: str, left: float | None) -> str | None:
        """A line typed within ``left`` seconds (None: no deadline); None when the time
        ran out or stdin ended. A countdown line every ``TICK`` seconds."""
        self._start()
        print(question, end=" ", flush=True)
        loop = asyncio.get_running_loop()
        end = None if left is None else loop.time() + left
        while True:
            wait = TICK if end is None else min(TICK, end - loop.time())
            if wait <= 0:
                print(f"\n{countdown(0)}", flush=True)
                return None
            try:
                return await asyncio.wait_for(self._lines.get(), wait)
            except TimeoutError:
                if end is not None and end - loop.time() > 0:
                    print(f"\n({countdown(end - loop.time())}) {question}", end=" ",
                          flush=True)


    async def secret(self, question: str) -> str | None:
        """A line typed without echo, read by the same thread as every other answer (a
        second reader, getpass, would race it for the line). POSIX: echo off through
        termios while it is typed; elsewhere (Windows: no termios) getpass, before the
        reading thread has started."""
        try:
            import termios  # POSIX only: imported here, the client runs on Windows too
        except ImportError:
            return await ask_secret(question)
        if not sys.stdin.isatty():
            return None
        fd = sys.stdin.fileno()
        old = termios.tcgetattr(fd)
        quiet = list(old)
        quiet[3] &= ~termios.ECHO   # lflag
        termios.tcsetattr(fd, termios.TCSADRAIN, quiet)
        try:
            return await self.ask(question, None)
        finally:
            termios.tcsetattr(fd, termios.TCSADRAIN, old)
            print(flush=True)


async def ask_secret(prompt: str) -> str | None:
    if not sys.stdin.isatty():
        return None
    return await asyncio.to_thread(getpass.getpass, prompt)


async def ask_line(prompt: str) -> str | None:
    if not sys.stdin.isatty():
        return None
    return await asyncio.to_thread(input, prompt)
