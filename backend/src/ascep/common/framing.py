"""Strict request framing: one unambiguous way to find where a request body ends.

Request smuggling needs two parsers that disagree on a body's length: a front proxy that reads
the second of two ``Content-Length`` headers while we read the first, or Python's ``int()``
accepting ``+84`` and ``8_4`` where others refuse them. We accept only what RFC 9112 allows
and every parser reads the same way, and answer 400 to the rest:

- at most one ``Content-Length``, made of ASCII digits only;
- at most one ``Transfer-Encoding``, and its value exactly ``chunked`` (the only coding the WSGI
  servers decode; anything else would be read as an empty body and the rest as the next request);
- never ``Content-Length`` together with ``Transfer-Encoding``;
- header names that are RFC 9110 tokens (``Content-Length :`` with a space is not one), and no
  obsolete line folding (a value continued on the next line).

Plain functions over header pairs, so the eventlet protocol (before the app runs) and the WSGI
guard (for the other servers) apply the same rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from ascep.common.errors import BadRequest

_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_DIGITS = re.compile(r"^[0-9]{1,18}$")  # ASCII only: str.isdigit() would accept "٣"


def framing_problem(headers: Iterable[tuple[str, str]]) -> BadRequest | None:
    """The reason the request's framing headers are ambiguous, or ``None`` when they are sound."""
    lengths: list[str] = []
    encodings: list[str] = []
    for name, value in headers:
        if not _TOKEN.match(name):
            return BadRequest("malformed header name", {"header": name[:64]})
        if "\r" in value or "\n" in value:
            return BadRequest("header values must not be folded over several lines", {"header": name[:64]})
        lowered = name.lower()
        if lowered == "content-length":
            lengths.append(value.strip())
        elif lowered == "transfer-encoding":
            encodings.append(value.strip())
    if len(lengths) > 1:
        return BadRequest("Content-Length must appear at most once", {"content_length": lengths[:4]})
    if lengths and not _DIGITS.match(lengths[0]):
        return BadRequest("Content-Length must be a whole number of digits", {"content_length": lengths[0]})
    if len(encodings) > 1:
        return BadRequest("Transfer-Encoding must appear at most once", {"transfer_encoding": encodings[:4]})
    if encodings and encodings[0].lower() != "chunked":
        return BadRequest(
            "only Transfer-Encoding: chunked is supported", {"transfer_encoding": encodings[0][:64]}
        )
    if lengths and encodings:
        return BadRequest("Content-Length and Transfer-Encoding must not be sent together")
    return None


def environ_framing_headers(environ: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The framing headers of a WSGI request, as faithfully as the server kept them.

    eventlet keeps every raw header in ``headers_raw``; other servers fold repeats into one
    environ key, so only the value checks can be applied there.
    """
    raw = environ.get("headers_raw")
    if raw is not None:
        return list(raw)
    headers: list[tuple[str, str]] = []
    if environ.get("CONTENT_LENGTH") not in (None, ""):
        headers.append(("Content-Length", str(environ["CONTENT_LENGTH"])))
    if environ.get("HTTP_TRANSFER_ENCODING"):
        headers.append(("Transfer-Encoding", str(environ["HTTP_TRANSFER_ENCODING"])))
    return headers
