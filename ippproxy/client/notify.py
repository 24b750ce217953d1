"""Desktop notifications where the desktop has them: ``notify-send`` (libnotify, the
freedesktop.org Desktop Notifications Specification) when it is on the PATH. Optional:
without it, or when it fails, the terminal shows everything anyway. The text goes as
arguments (never through a shell), with the markup characters the specification lets a
notification server interpret escaped."""

from __future__ import annotations

import asyncio
import shutil

_MARKUP = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


class Notifier:
    def __init__(self, enabled: bool) -> None:
        self.program = shutil.which("notify-send") if enabled else None

    async def show(self, title: str, body: str) -> None:
        if self.program is None:
            return
        try:
            proc = await asyncio.create_subprocess_exec(
                self.program, "--app-name=ippproxy-client", title.translate(_MARKUP),
                body.translate(_MARKUP), stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
            await asyncio.wait_for(proc.wait(), 10)
        except (OSError, TimeoutError):
            self.program = None   # no desktop to notify: stop trying
