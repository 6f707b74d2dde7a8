"""Google's batch protocol: a ``multipart/mixed`` body whose parts are whole HTTP requests
(``application/http``, each with a ``Content-ID``), answered by a ``multipart/mixed`` body of
HTTP responses whose ``Content-ID`` is ``<response-...>`` of the request's."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qsl, urlsplit

from civility.api._errors import invalid

MAX_PARTS = 1000
_BOUNDARY = re.compile(r'boundary=(?:"([^"]+)"|([^;\s]+))', re.I)


@dataclass
class Part:
    content_id: str | None
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def _split_head(blob: bytes) -> tuple[bytes, bytes]:
    m = re.search(rb"\r?\n\r?\n", blob)
    if m is None:
        return blob, b""
    return blob[: m.start()], blob[m.end() :]


def _headers(head: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in re.split(rb"\r?\n", head):
        if b":" in line:
            k, v = line.split(b":", 1)
            out[k.decode("latin-1").strip().lower()] = v.decode("latin-1").strip()
    return out


def parse_batch(content_type: str, body: bytes) -> list[Part]:
    m = _BOUNDARY.search(content_type)
    if not content_type.lower().startswith("multipart/mixed") or m is None:
        raise invalid("Batch requests must be multipart/mixed with a boundary.")
    delimiter = b"--" + (m.group(1) or m.group(2)).encode("latin-1")
    chunks = body.split(delimiter)
    parts: list[Part] = []
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk.removeprefix(b"\r\n").removeprefix(b"\n")
        chunk = chunk.removesuffix(b"\n").removesuffix(b"\r")
        head, inner = _split_head(chunk)
        part_headers = _headers(head)
        request_head, request_body = _split_head(inner)
        lines = re.split(rb"\r?\n", request_head, maxsplit=1)
        request_line = lines[0].decode("latin-1").split()
        if len(request_line) < 2:
            raise invalid(f"Batch part {len(parts) + 1} is not an HTTP request.")
        url = urlsplit(request_line[1])
        parts.append(
            Part(
                content_id=part_headers.get("content-id"),
                method=request_line[0].upper(),
                path=url.path,
                query=dict(parse_qsl(url.query, keep_blank_values=True)),
                headers=_headers(lines[1] if len(lines) > 1 else b""),
                body=request_body,
            )
        )
        if len(parts) > MAX_PARTS:
            raise invalid(f"A batch holds at most {MAX_PARTS} requests.")
    if not parts:
        raise invalid("Batch request holds no parts.")
    return parts


def response_id(content_id: str | None) -> str | None:
    if not content_id:
        return None
    inner = content_id.strip().removeprefix("<").removesuffix(">")
    return f"<response-{inner}>"


def render_batch(answers: list[tuple[Part, int, bytes, dict[str, str]]]) -> tuple[str, bytes]:
    """The multipart reply: returns (content type, body)."""
    boundary = "batch_" + secrets.token_hex(12)
    out = bytearray()
    for part, status, body, headers in answers:
        out += f"--{boundary}\r\nContent-Type: application/http\r\n".encode()
        rid = response_id(part.content_id)
        if rid:
            out += f"Content-ID: {rid}\r\n".encode("latin-1", "replace")
        out += b"\r\n"
        out += f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n".encode()
        out += b"Content-Type: application/json; charset=UTF-8\r\n"
        for k, v in headers.items():
            out += f"{k}: {v}\r\n".encode("latin-1", "replace")
        out += f"Content-Length: {len(body)}\r\n\r\n".encode()
        out += body + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return f"multipart/mixed; boundary={boundary}", bytes(out)
