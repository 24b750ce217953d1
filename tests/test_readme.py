"""The README's examples run as written (issue 16).

A fenced block after ``<!-- readme-test: FILE -->`` is written to FILE; a block after
``<!-- readme-test: run -->`` is run line by line with bash, each line must exit 0. They
run in a directory laid out as the checkout after ``make run`` (``.venv`` and the
``ippproxy`` package beside the configuration) with a server started on the README's
configuration. Only the ports differ: the README's 8631 and 8632 become free ones (the
configuration gets a ``[server]`` and ``[virtual_printer]`` table for them).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import ippproxy
from tests.support.server import free_port

README = Path(__file__).resolve().parent.parent / "README.md"
MARKED = re.compile(r"<!-- readme-test: (\S+) -->\n```[a-z]*\n(.*?)```", re.DOTALL)


def marked_blocks(text: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in MARKED.finditer(text)]


def test_the_marked_blocks_are_found() -> None:
    blocks = marked_blocks(README.read_text())
    assert [name for name, _ in blocks] == ["ippproxy.toml", "run"]
    assert "add-internal-user" in blocks[1][1] and "refund-job" in blocks[1][1]


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A directory as the checkout is after ``make run``: .venv and the package."""
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parent.parent)
    (tmp_path / "ippproxy").symlink_to(Path(ippproxy.__file__).resolve().parent)
    return tmp_path


def test_readme_examples_run_as_written(checkout: Path) -> None:
    port, vp_port = free_port(), free_port()
    ports = {"8631": str(port), "8632": str(vp_port)}

    def local(text: str) -> str:
        return re.sub(r"\b(8631|8632)\b", lambda m: ports[m.group(1)], text)

    runs: list[str] = []
    for name, body in marked_blocks(README.read_text()):
        if name == "run":
            runs.append(local(body))
        else:
            extra = (f'\n[server]\nlisten = "127.0.0.1"\nport = {port}\n'
                     f'[virtual_printer]\nport = {vp_port}\n') if name.endswith(".toml") else ""
            (checkout / name).write_text(body + extra)
    assert runs
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    check = subprocess.run([".venv/bin/ippproxy", "check-config", "ippproxy.toml"],
                           cwd=checkout, capture_output=True, text=True, env=env, check=False)
    assert check.returncode == 0, check.stderr
    server = subprocess.Popen([".venv/bin/ippproxy", "serve", "--config", "ippproxy.toml"],
                              cwd=checkout, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, text=True, env=env)
    try:
        assert server.stdout is not None
        seen = []
        for line in server.stdout:
            seen.append(line)
            if line.startswith("ippproxy ready"):
                break
        assert seen and seen[-1].startswith("ippproxy ready"), "".join(seen)
        for block in runs:
            for line in block.splitlines():
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                r = subprocess.run(["bash", "-c", line], cwd=checkout, capture_output=True,
                                   text=True, env=env, timeout=120, check=False)
                assert r.returncode == 0, f"{line}\n{r.stdout}\n{r.stderr}"
                assert "Traceback" not in r.stderr, r.stderr
    finally:
        server.terminate()
        server.wait(30)
