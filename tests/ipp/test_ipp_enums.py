"""Enums are for lookup only: spec keywords, and unknown ints never fail."""

from __future__ import annotations

from ippproxy.ipp import JobState, Operation, PrinterState, Status, Tag, keyword_for
from ippproxy.ipp.enums import DocumentState, is_successful
from ippproxy.ipp.tags import is_delimiter, is_group, is_out_of_band, tag_keyword


def test_keywords() -> None:
    assert Operation.PRINT_JOB.keyword == "Print-Job"
    assert Operation.GET_PRINTER_ATTRIBUTES.keyword == "Get-Printer-Attributes"
    assert Operation.CUPS_GET_PPDS.keyword == "CUPS-Get-PPDs"
    assert Operation.CUPS_GET_PRINTERS.value == 0x4002
    assert Operation.GET_SYSTEM_ATTRIBUTES.value == 0x005B
    assert Operation.ACKNOWLEDGE_DOCUMENT.value == 0x003F
    assert Status.CLIENT_ERROR_BAD_REQUEST.keyword == "client-error-bad-request"
    assert Status.CLIENT_ERROR_ACCOUNT_INFO_NEEDED.value == 0x041C
    assert Status.SERVER_ERROR_TOO_MANY_DOCUMENTS.value == 0x050C
    assert JobState.PENDING_HELD.keyword == "pending-held"
    assert PrinterState.IDLE.keyword == "idle"
    assert DocumentState.COMPLETED.value == 9
    assert Tag.NAME_WITH_LANGUAGE.keyword == "nameWithLanguage"


def test_unknown_values_never_fail() -> None:
    assert Operation.keyword_of(0x4100) == "0x4100"
    assert Status.keyword_of(0x0777) == "0x0777"
    assert Status.keyword_of(0x0400) == "client-error-bad-request"
    assert JobState.keyword_of(42) == "42"
    assert keyword_for(PrinterState, 3) == "idle"
    assert tag_keyword(0x4B) == "0x4b"


def test_from_keyword() -> None:
    assert Operation.from_keyword("Cancel-My-Jobs") is Operation.CANCEL_MY_JOBS
    assert Status.from_keyword("successful-ok") is Status.SUCCESSFUL_OK
    assert JobState.from_keyword("nope") is None


def test_tag_classes() -> None:
    assert is_delimiter(0x0F) and not is_delimiter(0x00) and not is_delimiter(0x10)
    assert is_group(0x09) and not is_group(0x03)
    assert is_out_of_band(0x13) and not is_out_of_band(0x21)
    assert is_successful(0x0007) and not is_successful(0x0400)
