"""Queue and job URIs: what a request path or printer-uri names, and the authority we hand out."""

from __future__ import annotations

import pytest

from ippproxy.server.uris import Target, authority, parse_path, parse_uri, personal_secret


@pytest.mark.parametrize(("path", "target"), [
    ("/", Target(None, root=True)),            # CUPS's "the server"
    ("/admin/", Target(None)),
    ("/printers", Target(None, root=True)),
    ("/printers/", Target(None, root=True)),
    ("/jobs", Target(None)),
    ("/jobs/7", Target(None, 7)),              # CUPS's job-uri: the dispatcher finds its queue
    ("/jobs/0", None),
    ("/jobs/x", None),
    ("/ipp/print", Target("office")),
    ("/ipp/print/", Target("office")),
    ("/ipp/print/7", Target("office", 7)),
    ("/printers/lab", Target("lab")),
    ("/printers/lab%20two", Target("lab two")),
    ("/jobs/lab/12", Target("lab", 12)),
    ("/jobs/lab/x", None),
    ("/printers/lab/extra", None),
    ("/elsewhere", None),
])
def test_parse_path(path: str, target: Target | None) -> None:
    assert parse_path(path, "office") == target


@pytest.mark.parametrize(("uri", "target"), [
    ("ipp://host:631/printers/lab", Target("lab")),
    ("IPPS://host/ipp/print", Target("office")),
    ("http://host/jobs/lab/3", Target("lab", 3)),
    ("ftp://host/printers/lab", None),
    ("ipp://[::1/printers/lab", None),   # urlsplit refuses it: no target, no exception
])
def test_parse_uri(uri: str, target: Target | None) -> None:
    assert parse_uri(uri, "office") == target


def test_default_queue_is_part_of_the_answer() -> None:
    assert parse_path("/ipp/print", "a") == Target("a")
    assert parse_path("/ipp/print", "b") == Target("b")   # not the cached answer for "a"


def test_authority() -> None:
    assert authority("print.example", "ignored:1", "0.0.0.0", 8631) == "print.example:8631"
    assert authority("", "host.example:9", "0.0.0.0", 8631) == "host.example:9"
    assert authority("", "bad host!", "0.0.0.0", 8631) == "localhost:8631"
    assert authority("", None, "::1", 8631) == "[::1]:8631"


def test_caches_stay_bounded_whatever_clients_send() -> None:
    # Paths, printer-uris and Host headers come from clients: the memo of their parses
    # must not grow with the number of distinct strings a client can invent.
    for i in range(3000):
        parse_path(f"/printers/q{i}", "office")
        parse_uri(f"ipp://h/printers/q{i}", "office")
        authority("", f"h{i}.example", "0.0.0.0", 8631)
    for f in (parse_path, parse_uri, authority):
        assert f.cache_info().currsize <= 256


@pytest.mark.parametrize(("path", "target", "secret"), [
    ("/printers/mine/u/ipxu_abc", Target("mine"), "ipxu_abc"),
    ("/printers/mine/u/ipxu_abc/", Target("mine"), "ipxu_abc"),
    ("/printers/mine/u/", None, None),                     # no secret: nothing
    ("/printers/mine/x/ipxu_abc", None, None),
    ("/printers/mine/u/a/b", None, None),
    ("/jobs/mine/u/ipxu_abc", None, None),
    ("/printers/mine", Target("mine"), None),
])
def test_personal_printer_urls(path: str, target: Target | None, secret: str | None) -> None:
    assert parse_path(path, "default") == target
    assert personal_secret(path) == secret
    assert parse_uri(f"ipps://h:631{path}", "default") == target
