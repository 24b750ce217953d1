"""``job-more-info`` and ``printer-more-info`` lead to pages (server/pages.py): the links our
IPP answers carry, followed over HTTPS as a browser would; the job page withholds a private
job's name, owner and message from anyone but its owner and admins."""

from __future__ import annotations

from ippproxy.ipp import Operation as Op
from ippproxy.ipp import Tag

from .client import Ipp, a, message, status, value
from .test_server_ops import PDF_FMT, req_attrs

J, P = Tag.JOB_ATTRIBUTES, Tag.PRINTER_ATTRIBUTES


async def _get(ipp: Ipp, link: str, headers: dict[str, str] | None = None
               ) -> tuple[int, str, dict[str, str]]:
    """Follow an https:// link we handed out, on the TLS site of the test server."""
    path = link.split(ipp.authority, 1)[1]
    async with ipp.session.get(ipp.tls_base + path, headers=headers or {}, ssl=False,
                               allow_redirects=False) as r:
        return r.status, await r.text(), dict(r.headers)


async def test_job_more_info_is_a_status_page(ipp: Ipp, pdf: bytes) -> None:
    m = await ipp.call(Op.PRINT_JOB, a("job-name", Tag.NAME, "secret-report"), PDF_FMT,
                       a("job-hold-until", Tag.KEYWORD, "indefinite"), data=pdf,
                       user="alice")
    assert status(m) == "successful-ok", message(m)
    m = await ipp.call(Op.GET_JOB_ATTRIBUTES, a("job-id", Tag.INTEGER, value(m, J, "job-id")),
                       req_attrs("job-more-info"))
    link = value(m, J, "job-more-info")
    assert link == f"https://{ipp.authority}/jobs/default/1"
    code, page, headers = await _get(ipp, link)       # nobody proven
    assert code == 200 and headers["Content-Type"].startswith("text/html")
    assert "Job 1 on default" in page and "pending-held" in page
    assert "job-hold-until-specified" in page
    assert "secret-report" not in page and "alice" not in page
    assert headers["Cache-Control"] == "no-store"
    # An admin sees the name and the owner.
    admin = await ipp.admin()
    code, page, _ = await _get(ipp, link, admin.headers)
    assert code == 200 and "secret-report" in page and "alice" in page
    # ?login asks the browser for credentials.
    code, _, headers = await _get(ipp, link + "?login")
    assert code == 401 and headers["WWW-Authenticate"].startswith("Basic")
    for missing in ("/jobs/default/2", "/jobs/nope/1", "/jobs/default/x",
                    "/jobs/default/99999999999"):
        assert (await _get(ipp, f"https://{ipp.authority}{missing}"))[0] == 404


async def test_printer_more_info_is_a_status_page(ipp: Ipp, pdf: bytes) -> None:
    await ipp.call(Op.PRINT_JOB, PDF_FMT, a("job-hold-until", Tag.KEYWORD, "indefinite"),
                   data=pdf)
    m = await ipp.call(Op.GET_PRINTER_ATTRIBUTES, req_attrs("printer-more-info"))
    link = value(m, P, "printer-more-info")
    assert link == f"https://{ipp.authority}/printers/default"
    code, page, _ = await _get(ipp, str(link))
    assert code == 200
    assert "<th>State</th><td>idle</td>" in page
    assert "<th>Jobs waiting</th><td>1</td>" in page
    assert 'href="/admin/printers#p-default"' in page


async def test_plain_http_is_sent_to_https(ipp: Ipp) -> None:
    async with ipp.session.get(f"{ipp.base}/jobs/default/1",
                               allow_redirects=False) as r:
        assert r.status == 308
        assert r.headers["Location"].startswith("https://")
        assert r.headers["Location"].endswith("/jobs/default/1")


async def test_ipp_on_the_job_path_still_works(ipp: Ipp, pdf: bytes) -> None:
    # The GET page shares its path with IPP requests that POST to a job-uri.
    await ipp.call(Op.PRINT_JOB, PDF_FMT, data=pdf)
    m = await ipp.call(Op.GET_JOB_ATTRIBUTES, a("job-id", Tag.INTEGER, 1),
                       req_attrs("job-state"), path="/jobs/default/1")
    assert status(m) == "successful-ok"
