"""POST /v1/titles: an editor uploads a video and its metadata; the title is extracted at once.

The upload is streamed to a temporary file under ``$ARTWORK_HOME/uploads`` (size-checked as it
arrives), ingested like ``artwork ingest`` and removed, whatever the outcome.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path
from typing import Annotated, BinaryIO

from fastapi import APIRouter, File, Form, Request, UploadFile, status

from artwork.api.deps import EditorKey, ServicesDep
from artwork.api.routes.titles import get_title
from artwork.api.schemas import ErrorPublic, TitlePublic
from artwork.errors import StorageError, UnsupportedMediaError, UploadTooLargeError

router = APIRouter(prefix="/v1/titles", tags=["titles"])

#: Generic types that clients send for any file (curl, browsers without a mapping).
GENERIC_TYPES = frozenset({"application/octet-stream", "binary/octet-stream"})
CHUNK = 1 << 20


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=TitlePublic,
    responses={
        409: {"model": ErrorPublic},
        413: {"model": ErrorPublic},
        415: {"model": ErrorPublic},
        422: {"model": ErrorPublic},
    },
)
def upload_title(
    request: Request,
    services: ServicesDep,
    editor: EditorKey,
    video: Annotated[UploadFile, File(description="The title's video file.")],
    title_id: Annotated[str, Form(min_length=1, max_length=128)],
    name: Annotated[str, Form(min_length=1, max_length=512)],
    genre: Annotated[list[str] | None, Form(description="Repeat for several genres.")] = None,
    replace: Annotated[bool, Form()] = False,
) -> TitlePublic:
    content_type = (video.content_type or "").split(";")[0].strip().lower()
    if not (content_type.startswith("video/") or content_type in GENERIC_TYPES):
        raise UnsupportedMediaError(
            f"upload {video.filename!r} has content type {content_type or 'none'!r}; "
            "send a video (video/mp4, video/quicktime, ...) in the 'video' form field"
        )
    limit = services.settings.max_upload_mb << 20
    suffix = Path(video.filename or "upload.bin").suffix[:16]
    path = _spool(video.file, services.settings.home / "uploads", suffix, limit)
    try:
        services.ingestor.ingest(
            path, title_id=title_id, name=name, genres=genre or (), replace=replace
        )
    finally:
        path.unlink(missing_ok=True)
    return get_title(title_id, request, services, editor)


def _spool(source: BinaryIO, folder: Path, suffix: str, limit: int) -> Path:
    """Copy an upload to a temporary file, refusing it as soon as it passes ``limit`` bytes."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=folder, prefix="upload-", suffix=suffix)
    except OSError as exc:
        raise StorageError(f"cannot store the upload in {folder}: {exc.strerror}") from exc
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as target:
            written = 0
            while chunk := source.read(CHUNK):
                written += len(chunk)
                if written > limit:
                    raise UploadTooLargeError(
                        f"upload is larger than {limit >> 20} MB; raise ARTWORK_MAX_UPLOAD_MB "
                        "or ingest the file with `artwork ingest` on the server"
                    )
                target.write(chunk)
    except OSError as exc:
        path.unlink(missing_ok=True)
        hint = "free some disk space" if exc.errno == errno.ENOSPC else "check permissions"
        raise StorageError(f"cannot store the upload in {folder}: {exc.strerror}; {hint}") from exc
    except BaseException:
        with contextlib.suppress(OSError):
            path.unlink()
        raise
    return path
