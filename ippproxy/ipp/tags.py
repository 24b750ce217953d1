"""IPP tags: delimiter tags and value tags (RFC 8010 §3.5, IANA "IPP Registrations").

Codec values keep their tag as a plain ``int``; :class:`Tag` names the registered ones.
"""

from __future__ import annotations

from enum import IntEnum


class Tag(IntEnum):
    """Registered delimiter and value tags (RFC 8010 §3.5.1, §3.5.2)."""

    # Delimiter tags, RFC 8010 §3.5.1 (0x00 is reserved and invalid on the wire).
    OPERATION_ATTRIBUTES = 0x01
    JOB_ATTRIBUTES = 0x02
    END_OF_ATTRIBUTES = 0x03
    PRINTER_ATTRIBUTES = 0x04
    UNSUPPORTED_ATTRIBUTES = 0x05
    SUBSCRIPTION_ATTRIBUTES = 0x06  # RFC 3995
    EVENT_NOTIFICATION_ATTRIBUTES = 0x07  # RFC 3995
    RESOURCE_ATTRIBUTES = 0x08  # PWG 5100.22
    DOCUMENT_ATTRIBUTES = 0x09  # PWG 5100.5
    SYSTEM_ATTRIBUTES = 0x0A  # PWG 5100.22

    # Out-of-band value tags, RFC 8010 §3.5.2 and RFC 3380.
    UNSUPPORTED = 0x10
    DEFAULT = 0x11  # reserved ("default" in RFC 2910)
    UNKNOWN = 0x12
    NO_VALUE = 0x13
    NOT_SETTABLE = 0x15
    DELETE_ATTRIBUTE = 0x16
    ADMIN_DEFINE = 0x17

    # Integer value tags.
    INTEGER = 0x21
    BOOLEAN = 0x22
    ENUM = 0x23

    # octetString value tags.
    OCTET_STRING = 0x30
    DATE_TIME = 0x31
    RESOLUTION = 0x32
    RANGE_OF_INTEGER = 0x33
    BEGIN_COLLECTION = 0x34  # RFC 8010 §3.1.6
    TEXT_WITH_LANGUAGE = 0x35
    NAME_WITH_LANGUAGE = 0x36
    END_COLLECTION = 0x37

    # Character-string value tags.
    TEXT = 0x41
    NAME = 0x42
    KEYWORD = 0x44
    URI = 0x45
    URI_SCHEME = 0x46
    CHARSET = 0x47
    NATURAL_LANGUAGE = 0x48
    MIME_MEDIA_TYPE = 0x49
    MEMBER_ATTR_NAME = 0x4A

    # RFC 8010 §3.5.2: the first four octets of the value hold the extended tag.
    EXTENSION = 0x7F

    @property
    def keyword(self) -> str:
        """The spec name of the tag (``"nameWithLanguage"``, ``"job-attributes-tag"``)."""
        return tag_keyword(self.value)


# Delimiter tags (RFC 8010 §3.5.1): 0x01-0x0F; 0x00 is invalid.
def is_delimiter(tag: int) -> bool:
    """True for a begin-attribute-group or end-of-attributes tag (0x01-0x0F)."""
    return 0x01 <= tag <= 0x0F


def is_group(tag: int) -> bool:
    """True for a begin-attribute-group tag (any delimiter but end-of-attributes)."""
    return 0x01 <= tag <= 0x0F and tag != Tag.END_OF_ATTRIBUTES


def is_out_of_band(tag: int) -> bool:
    """True for out-of-band value tags 0x10-0x1F (RFC 8010 §3.8)."""
    return 0x10 <= tag <= 0x1F


_KEYWORDS: dict[int, str] = {
    0x01: "operation-attributes-tag",
    0x02: "job-attributes-tag",
    0x03: "end-of-attributes-tag",
    0x04: "printer-attributes-tag",
    0x05: "unsupported-attributes-tag",
    0x06: "subscription-attributes-tag",
    0x07: "event-notification-attributes-tag",
    0x08: "resource-attributes-tag",
    0x09: "document-attributes-tag",
    0x0A: "system-attributes-tag",
    0x10: "unsupported",
    0x11: "default",
    0x12: "unknown",
    0x13: "no-value",
    0x15: "not-settable",
    0x16: "delete-attribute",
    0x17: "admin-define",
    0x21: "integer",
    0x22: "boolean",
    0x23: "enum",
    0x30: "octetString",
    0x31: "dateTime",
    0x32: "resolution",
    0x33: "rangeOfInteger",
    0x34: "collection",
    0x35: "textWithLanguage",
    0x36: "nameWithLanguage",
    0x37: "endCollection",
    0x41: "textWithoutLanguage",
    0x42: "nameWithoutLanguage",
    0x44: "keyword",
    0x45: "uri",
    0x46: "uriScheme",
    0x47: "charset",
    0x48: "naturalLanguage",
    0x49: "mimeMediaType",
    0x4A: "memberAttrName",
    0x7F: "extension",
}


def tag_keyword(tag: int) -> str:
    """Spec name of any tag; an unregistered tag gives ``"0x4b"`` and never fails."""
    return _KEYWORDS.get(tag, f"0x{tag:02x}")
