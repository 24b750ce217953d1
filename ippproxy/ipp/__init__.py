"""ippproxy.ipp: the IPP codec (RFC 8010 encoding, RFC 8011 model); sans-I/O, stdlib only.

Every value keeps its tag; enums are for lookup only; see decoder.py for the theory of
operation and docs/interfaces.md for the contract.
"""

from .attribute import Attribute, Collection, Value
from .decoder import Decoder, decode
from .encoder import encode, encode_attribute
from .enums import DocumentState, JobState, Operation, PrinterState, Status, keyword_for
from .errors import DecodeError, EncodeError, RequestError
from .group import Group
from .limits import Limits
from .message import Message
from .response import make_response
from .tags import Tag
from .validate import check_request
from .values import RangeOfInteger, Resolution, StringWithLanguage

__all__ = [
    "Attribute", "Collection", "DecodeError", "Decoder", "DocumentState", "EncodeError",
    "Group", "JobState", "Limits", "Message", "Operation", "PrinterState", "RangeOfInteger",
    "RequestError", "Resolution", "Status", "StringWithLanguage", "Tag", "Value", "check_request",
    "decode", "encode", "encode_attribute", "keyword_for", "make_response",
]
