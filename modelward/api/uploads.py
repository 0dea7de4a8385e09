"""Request bodies that carry data: read with a size cap, and ``multipart/form-data`` parsed.

The parser is small on purpose: FastAPI's own form support needs ``python-multipart``, which
modelward does not depend on. It reads one body held in memory (capped by
:data:`MAX_UPLOAD_BYTES`), splits it on the boundary the client declared, and reads each part's
headers with the standard library's MIME parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import HTTP
from pathlib import Path

from fastapi import Request

from modelward.errors import InvalidInputError, PayloadTooLargeError

MAX_UPLOAD_BYTES = 100 * 2**20
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Upload:
    """One file part of a form: the client's file name, its bytes and the part's name."""

    filename: str
    content: bytes
    name: str = "file"

    @property
    def safe_name(self) -> str:
        """The file name reduced to a plain name (its suffix tells the data format)."""
        name = _UNSAFE.sub("_", Path(self.filename.replace("\\", "/")).name).lstrip("._")
        return name[-120:] or "data"


async def read_body(request: Request, limit: int | None = None) -> bytes:
    """The whole request body, refused (413) beyond ``limit`` bytes (default
    :data:`MAX_UPLOAD_BYTES`) before it is all read."""
    limit = MAX_UPLOAD_BYTES if limit is None else limit
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(int(declared), limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(size, limit)
        chunks.append(chunk)
    return b"".join(chunks)


def media_type(request: Request) -> tuple[str, Message]:
    """The request's media type, lower-case, and its parsed ``Content-Type`` header."""
    header = Message()
    header["content-type"] = request.headers.get("content-type", "")
    return header.get_content_type(), header


def parse_form(header: Message, body: bytes) -> tuple[dict[str, str], list[Upload]]:
    """The text fields and the file parts of a ``multipart/form-data`` body."""
    boundary = header.get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise InvalidInputError(
            "a multipart/form-data body needs a boundary in its Content-Type",
            hint="let your HTTP client build the form (curl -F, requests files=…)",
        )
    fields: dict[str, str] = {}
    files: list[Upload] = []
    delimiter = b"--" + boundary.encode("latin-1")
    chunks = body.split(delimiter)
    if len(chunks) < 3 or not chunks[-1].startswith(b"--"):
        raise InvalidInputError("the multipart body is cut short: it has no closing boundary")
    for chunk in chunks[1:-1]:
        head, sep, content = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not sep or not content.endswith(b"\r\n"):
            raise InvalidInputError("a part of the multipart body is malformed")
        part = BytesHeaderParser(policy=HTTP).parsebytes(head + b"\r\n\r\n")
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or not name:
            raise InvalidInputError("a part of the multipart body has no name")
        filename = part.get_filename()
        if filename is not None:
            files.append(Upload(filename, content[:-2], name))
        else:
            fields[name] = content[:-2].decode("utf-8", errors="replace")
    return fields, files


def _too_large(size: int, limit: int) -> PayloadTooLargeError:
    return PayloadTooLargeError(
        f"the request body holds {size:,} bytes or more; the limit is {limit:,}",
        hint="validate on a sample, or run `modelward validate` where the database is",
    )
