"""Reading an upload (``multipart/form-data``) as it streams in, checking before storing.

The form fields must come before the file (every HTTP client sends them in the order given;
``artwork upload`` does). When the file part begins, the fields read so far are handed to a
check (title id, name, duplicates, permission) *before* a byte of the file is stored; the
file's first bytes are sniffed (``artwork.video.containers``) before the rest is written;
and the file is cut off at its size limit.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from python_multipart import MultipartParser
from python_multipart.multipart import parse_options_header

from artwork.errors import (
    ArtworkError,
    InvalidInputError,
    StorageError,
    UnsupportedMediaError,
    UploadTooLargeError,
)
from artwork.video.containers import SNIFF_BYTES, sniff

#: Types clients send for any file (curl, browsers without a mapping), besides ``video/*``.
GENERIC_TYPES = frozenset({"application/octet-stream", "binary/octet-stream"})
MAX_FIELDS = 64
MAX_FIELD_BYTES = 4096


@dataclass
class Upload:
    """The form's fields (each name with its values) and where the file was stored."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    path: Path | None = None
    filename: str = ""
    size: int = 0


@dataclass
class _File:
    """The file part being written: its handle, path and first bytes (until sniffed)."""

    handle: BinaryIO
    path: Path
    head: bytearray = field(default_factory=bytearray)
    sniffed: bool = False


@dataclass
class _Part:
    name: str = ""
    filename: str | None = None
    content_type: str = ""
    data: bytearray = field(default_factory=bytearray)


async def read_upload(
    stream: AsyncIterator[bytes],
    content_type: str,
    *,
    file_field: str,
    folder: Path,
    limit: int,
    check_fields: Callable[[dict[str, list[str]]], None],
) -> Upload:
    """Read a multipart body: fields into memory, the ``file_field`` file into ``folder``.

    Args:
        stream: the request body.
        content_type: the request's Content-Type (carries the boundary).
        file_field: the form field holding the file.
        folder: where the file is written (``upload-*`` temporary names).
        limit: most bytes the file may have.
        check_fields: called with the fields when the file begins; raises to refuse.

    Raises:
        UnsupportedMediaError: not multipart; the file is not a video (declared type or bytes).
        UploadTooLargeError: the file passes ``limit``.
        InvalidInputError: malformed multipart, too many or too large fields, no file.
        StorageError: the file cannot be written.
    """
    kind, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise UnsupportedMediaError(
            "send the upload as multipart/form-data: the fields title_id, name, genre, then "
            f"the file in '{file_field}'"
        )
    upload = Upload()
    part = _Part()
    headers: dict[bytes, bytes] = {}
    header_field = bytearray()
    header_value = bytearray()
    current: list[_File] = []  # the file being written, while it is
    errors: list[ArtworkError] = []

    def on_part_begin() -> None:
        nonlocal part
        part = _Part()
        headers.clear()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_field.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.extend(data[start:end])

    def on_header_end() -> None:
        headers[bytes(header_field).lower()] = bytes(header_value)
        header_field.clear()
        header_value.clear()

    def on_headers_finished() -> None:
        _, disposition = parse_options_header(headers.get(b"content-disposition", b""))
        part.name = disposition.get(b"name", b"").decode("utf-8", "replace")
        raw_filename = disposition.get(b"filename")
        part.filename = raw_filename.decode("utf-8", "replace") if raw_filename else None
        part.content_type = headers.get(b"content-type", b"").decode("latin-1").strip().lower()
        if part.name == file_field:
            if current or upload.path is not None:
                raise InvalidInputError(f"send one file in '{file_field}'")
            declared = part.content_type.split(";")[0].strip()
            if not (declared.startswith("video/") or declared in GENERIC_TYPES or not declared):
                raise UnsupportedMediaError(
                    f"upload {part.filename!r} has content type {declared!r}; send a video "
                    "(video/mp4, video/quicktime, ...)"
                )
            check_fields(upload.fields)  # before a byte of the file is stored
            current.append(_open_temp(folder, part.filename or ""))
            upload.filename = (part.filename or "upload")[:256]
        elif len(upload.fields) >= MAX_FIELDS:
            raise InvalidInputError(f"too many form fields (at most {MAX_FIELDS})")

    def on_part_data(data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if not current:
            part.data.extend(chunk)
            if len(part.data) > MAX_FIELD_BYTES:
                raise InvalidInputError(f"form field {part.name!r} is over {MAX_FIELD_BYTES} bytes")
            return
        upload.size += len(chunk)
        if upload.size > limit:
            raise UploadTooLargeError(
                f"upload is larger than {limit >> 20} MB; raise ARTWORK_MAX_UPLOAD_MB or "
                "ingest the file with `artwork ingest` on the server"
            )
        target = current[0]
        if not target.sniffed:
            target.head.extend(chunk)
            if len(target.head) < SNIFF_BYTES:
                return
            _check_sniffed(bytes(target.head), upload.filename)
            target.sniffed = True
            chunk = bytes(target.head)
        target.handle.write(chunk)

    def on_part_end() -> None:
        if not current:
            if part.filename is None and part.name:
                value = bytes(part.data).decode("utf-8", "replace")
                upload.fields.setdefault(part.name, []).append(value)
            return
        target = current[0]
        if not target.sniffed:
            _check_sniffed(bytes(target.head), upload.filename)
            target.handle.write(bytes(target.head))
            target.sniffed = True
        target.handle.close()
        upload.path = target.path
        current.clear()

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
        },
    )
    try:
        async for chunk in stream:
            try:
                parser.write(chunk)
            except ArtworkError as exc:  # raised by a callback: the answer to give
                errors.append(exc)
                break
            except Exception as exc:  # the parser's own errors: a malformed body
                raise InvalidInputError(f"malformed multipart body: {exc}") from None
        if errors:
            raise errors[0]
        parser.finalize()
        if upload.path is None:
            raise InvalidInputError(f"the form has no file in '{file_field}' (it goes last)")
    except BaseException:
        for target in current:
            target.handle.close()
            target.path.unlink(missing_ok=True)
        if upload.path is not None:
            upload.path.unlink(missing_ok=True)
        raise
    return upload


def _check_sniffed(head: bytes, filename: str) -> None:
    if sniff(head) is None:
        raise UnsupportedMediaError(
            f"upload {filename!r} is not a video in an accepted container (judged by its "
            "bytes); send an MP4, MOV, Matroska, WebM, MPEG-TS or AVI file"
        )


def _open_temp(folder: Path, filename: str) -> _File:
    suffix = "".join(c for c in Path(filename).suffix[:8] if c.isalnum() or c == ".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=folder, prefix="upload-", suffix=suffix)
    except OSError as exc:
        raise StorageError(f"cannot store the upload in {folder}: {exc.strerror}") from exc
    return _File(os.fdopen(fd, "wb"), Path(name))


def process_folder(uploads: Path) -> Path:
    """This process's own upload folder, ``uploads/<pid>``: what a restart may clean up is
    told apart from what a live process on the same home is still writing."""
    return uploads / str(os.getpid())


def remove_leftovers(uploads: Path, alive: Callable[[int], bool]) -> int:
    """Delete the upload folders of processes that are gone (and this process's, from an
    earlier process with the same pid); returns how many files went."""
    removed = 0
    if not uploads.is_dir():
        return 0
    for folder in uploads.iterdir():
        stale = folder.is_file() and folder.name.startswith("upload-")
        if folder.is_dir() and folder.name.isdigit():
            pid = int(folder.name)
            stale = pid == os.getpid() or not alive(pid)
        if not stale:
            continue
        files = [folder] if folder.is_file() else [p for p in folder.rglob("*") if p.is_file()]
        for leftover in files:
            with contextlib.suppress(OSError):
                leftover.unlink()
                removed += 1
        if folder.is_dir():
            with contextlib.suppress(OSError):
                folder.rmdir()
    return removed
