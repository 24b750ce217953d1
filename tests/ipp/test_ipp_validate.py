"""check_request: each RFC 8011 §4.1 rule with its status (ipptool ipp-1.1 / ipp-2.0)."""

from __future__ import annotations

import pytest

from ippproxy.ipp import (
    Attribute,
    Collection,
    Group,
    Message,
    Operation,
    RequestError,
    Status,
    StringWithLanguage,
    Tag,
    check_request,
)
from ippproxy.ipp.registry import JOB_TEMPLATE_ATTRIBUTES, OPERATION_ATTRIBUTES, SYNTAXES

A = Attribute.single
OP = Tag.OPERATION_ATTRIBUTES
JOB = Tag.JOB_ATTRIBUTES
CHARSET = A("attributes-charset", Tag.CHARSET, "utf-8")
LANG = A("attributes-natural-language", Tag.NATURAL_LANGUAGE, "en")
URI = A("printer-uri", Tag.URI, "ipp://localhost/printers/default")
BAD = Status.CLIENT_ERROR_BAD_REQUEST
TOO_LONG = Status.CLIENT_ERROR_REQUEST_VALUE_TOO_LONG


def request(*groups: Group, version: tuple[int, int] = (2, 0), request_id: int = 1,
            code: int = Operation.PRINT_JOB) -> Message:
    return Message(version, code, request_id, groups)


def ops(*attributes: Attribute) -> Group:
    return Group(OP, (CHARSET, LANG, URI, *attributes))


def job(*attributes: Attribute) -> Group:
    return Group(JOB, attributes)


GOOD = [
    ("minimal", request(ops())),
    ("all-versions", request(ops(), version=(1, 0))),
    ("charset-case", request(Group(OP, (A("attributes-charset", Tag.CHARSET, "UTF-8"), LANG)))),
    ("print-job", request(
        ops(A("requesting-user-name", Tag.NAME, "alice"),
            A("job-name", Tag.NAME_WITH_LANGUAGE, StringWithLanguage("fr", "tâche")),
            A("document-format", Tag.MIME_MEDIA_TYPE, "application/pdf"),
            A("ipp-attribute-fidelity", Tag.BOOLEAN, False),
            A("job-password", Tag.OCTET_STRING, b"1234"),
            Attribute.multi("requested-attributes", Tag.KEYWORD, ["job-id", "job-state"])),
        job(A("copies", Tag.INTEGER, 2), A("sides", Tag.KEYWORD, "one-sided"),
            A("media", Tag.NAME, "Custom"), A("job-hold-until", Tag.KEYWORD, "indefinite"),
            Attribute.multi("finishings", Tag.ENUM, [3, 4]),
            A("job-priority", Tag.NO_VALUE, None),
            A("media-col", Tag.BEGIN_COLLECTION, Collection((
                A("media-size", Tag.BEGIN_COLLECTION, Collection((
                    A("x-dimension", Tag.INTEGER, 21000), A("y-dimension", Tag.INTEGER, 29700),
                ))),
                A("media-source", Tag.KEYWORD, "tray-1"),
            ))),
            A("document-name-supplied", Tag.NAME, "x"), A("job-uuid", Tag.URI, "urn:uuid:1")),
    )),
    ("same-name-in-two-groups", request(ops(), job(A("x", Tag.KEYWORD, "a")),
                                        job(A("x", Tag.KEYWORD, "b")))),
    ("unknown-attributes-free", request(ops(A("x-vendor", Tag.OCTET_STRING, b"\x00")))),
    ("max-lengths-exact", request(ops(A("requesting-user-name", Tag.NAME, "n" * 255)),
                                  job(A("job-message-to-operator", Tag.TEXT, "t" * 1023)))),
]

# RFC 8011 §4.1.7: a job-template attribute in the job group whose tag the printer does not
# support is "unsupported", not malformed: the operation screens it and fidelity decides.
GOOD += [
    ("copies-keyword-in-job-group", request(ops(), job(A("copies", Tag.KEYWORD, "two")))),
    ("enum-as-integer-in-job-group",
     request(ops(), job(A("orientation-requested", Tag.INTEGER, 3)))),
    ("member-wrong-tag-in-job-group", request(ops(), job(A("media-col", Tag.BEGIN_COLLECTION,
        Collection((A("media-size", Tag.BEGIN_COLLECTION, Collection((
            A("x-dimension", Tag.KEYWORD, "a4"),))),)))))),
]


@pytest.mark.parametrize("message", [m for _, m in GOOD], ids=[n for n, _ in GOOD])
def test_good_requests(message: Message) -> None:
    check_request(message)


BAD_CASES: list[tuple[str, Message, int, str]] = [
    ("version-0.0", request(ops(), version=(0, 0)),
     Status.SERVER_ERROR_VERSION_NOT_SUPPORTED, "IPP version 0.0 is not supported"),
    ("version-3.0", request(ops(), version=(3, 0)),
     Status.SERVER_ERROR_VERSION_NOT_SUPPORTED, "3.0"),
    ("version-1.2", request(ops(), version=(1, 2)),
     Status.SERVER_ERROR_VERSION_NOT_SUPPORTED, "1.2"),
    ("version-before-request-id", request(version=(9, 9), request_id=0),
     Status.SERVER_ERROR_VERSION_NOT_SUPPORTED, "9.9"),
    ("request-id-0", request(ops(), request_id=0), BAD, "request-id 0"),
    ("request-id-negative", request(ops(), request_id=-5), BAD, "request-id -5"),
    ("no-groups", request(), BAD, "operation attributes group must come first"),
    ("job-group-first", request(job(), ops()), BAD, "must come first"),
    ("two-operation-groups", request(ops(), Group(OP, (CHARSET, LANG))), BAD,
     "more than one operation attributes group"),
    ("empty-operation-group", request(Group(OP)), BAD, "attributes-charset must be the first"),
    ("charset-only", request(Group(OP, (CHARSET, URI))), BAD,
     "attributes-natural-language must be the second"),
    ("language-only", request(Group(OP, (LANG, URI))), BAD, "attributes-charset must be"),
    ("language-then-charset", request(Group(OP, (LANG, CHARSET, URI))), BAD,
     "attributes-charset must be"),
    ("charset-wrong-tag", request(Group(OP, (A("attributes-charset", Tag.KEYWORD, "utf-8"),
                                             LANG))), BAD, "wrong value tag keyword"),
    ("charset-two-values", request(Group(OP, (Attribute.multi(
        "attributes-charset", Tag.CHARSET, ["utf-8", "utf-8"]), LANG))), BAD, "single-valued"),
    ("charset-latin1", request(Group(OP, (A("attributes-charset", Tag.CHARSET, "iso-8859-1"),
                                          LANG))),
     Status.CLIENT_ERROR_CHARSET_NOT_SUPPORTED, "charset 'iso-8859-1' is not supported"),
    ("duplicate-in-operation", request(ops(URI)), BAD, "'printer-uri' repeated"),
    ("duplicate-in-job", request(ops(), job(A("copies", Tag.INTEGER, 1),
                                            A("copies", Tag.INTEGER, 2))), BAD,
     "'copies' repeated in job-attributes-tag"),
    ("duplicate-in-collection", request(ops(), job(A("media-col", Tag.BEGIN_COLLECTION,
                                                     Collection((A("media-type", Tag.KEYWORD, "a"),
                                                                 A("media-type", Tag.KEYWORD, "b"))
                                                                )))),
     BAD, "'media-type' repeated in collection 'media-col'"),
    ("template-in-operation", request(ops(A("copies", Tag.INTEGER, 1))), BAD,
     "job template attribute 'copies' in the operation group"),
    ("operation-in-job", request(ops(), job(A("job-name", Tag.NAME, "x"))), BAD,
     "operation attribute 'job-name' in the job group"),
    ("wrong-tag-uri", request(ops(A("job-uri", Tag.TEXT, "x"))), BAD, "wrong value tag"),
    ("out-of-band-in-operation", request(ops(A("job-name", Tag.NO_VALUE, None))), BAD,
     "wrong value tag no-value"),
    ("single-valued-twice", request(ops(), job(Attribute.multi("copies", Tag.INTEGER, [1, 2]))),
     BAD, "'copies' is single-valued but has 2 values"),
    ("name-too-long", request(ops(A("requesting-user-name", Tag.NAME, "n" * 256))), TOO_LONG,
     "longer than 255 octets"),
    ("name-with-language-too-long", request(ops(A("job-name", Tag.NAME_WITH_LANGUAGE,
                                                  StringWithLanguage("en", "é" * 128)))),
     TOO_LONG, "longer than 255"),
    ("text-too-long", request(ops(), job(A("job-message-to-operator", Tag.TEXT, "t" * 1024))),
     TOO_LONG, "longer than 1023"),
    ("uri-too-long", request(ops(A("job-uri", Tag.URI, "u" * 1024))), TOO_LONG, "1023"),
    ("keyword-too-long", request(ops(), job(A("sides", Tag.KEYWORD, "k" * 256))), TOO_LONG,
     "255"),
    ("unregistered-text-too-long", request(ops(), job(A("x-note", Tag.TEXT, "t" * 1024))),
     TOO_LONG, "1023"),
    ("octet-string-too-long", request(ops(A("job-password", Tag.OCTET_STRING, b"p" * 256))),
     TOO_LONG, "255"),
    ("member-too-long", request(ops(), job(A("media-col", Tag.BEGIN_COLLECTION, Collection((
        A("media-type", Tag.KEYWORD, "m" * 256),))))), TOO_LONG, "'media-type'"),
    ("language-too-long", request(ops(A("job-name", Tag.NAME_WITH_LANGUAGE,
                                        StringWithLanguage("x" * 64, "n")))), TOO_LONG,
     "language of 'job-name'"),
]


@pytest.mark.parametrize(("message", "status", "text"), [c[1:] for c in BAD_CASES],
                         ids=[c[0] for c in BAD_CASES])
def test_bad_requests(message: Message, status: int, text: str) -> None:
    with pytest.raises(RequestError) as info:
        check_request(message)
    assert info.value.status == status
    assert text in info.value.message


def test_job_hold_until_tolerated_in_operation_group() -> None:
    """ipptool print-job-hold.test sends job-hold-until in the operation group."""
    check_request(request(ops(A("job-hold-until", Tag.KEYWORD, "indefinite"))))
    with pytest.raises(RequestError):  # its syntax is still checked there
        check_request(request(ops(A("job-hold-until", Tag.INTEGER, 1))))


def test_registry_covers_what_clients_send() -> None:
    for name in ("printer-uri", "job-uri", "job-id", "requesting-user-name", "job-name",
                 "document-format", "document-name", "compression", "ipp-attribute-fidelity",
                 "last-document", "which-jobs", "my-jobs", "limit", "first-index",
                 "requested-attributes", "job-password", "job-password-encryption"):
        assert name in OPERATION_ATTRIBUTES, name
    for name in ("job-hold-until", "job-priority", "copies", "sides", "number-up",
                 "page-ranges", "media", "media-col", "print-color-mode", "print-quality",
                 "printer-resolution", "finishings", "orientation-requested", "output-bin",
                 "job-account-id", "job-accounting-user-id"):
        assert name in JOB_TEMPLATE_ATTRIBUTES, name
    assert SYNTAXES["requested-attributes"].set_of
    assert not SYNTAXES["copies"].set_of
