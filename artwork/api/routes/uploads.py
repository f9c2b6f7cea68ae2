"""POST /v1/titles: an editor uploads a video and its metadata; extraction runs as a job.

The form is read as it streams (``artwork.api.multipart``): title id, name, genres, the
duplicate check and the ``replace`` permission are checked when the file part begins, before
a byte of it is stored; the file's first bytes must announce an allowed container; the size
limit cuts it off. The answer is 202 with the job; ``GET /v1/jobs/{job_id}`` follows it.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse

from artwork.api.deps import EditorKey, ServicesDep
from artwork.api.jobs import JobRunner, UploadJob
from artwork.api.multipart import process_folder, read_upload
from artwork.api.params import PRINTABLE, TITLE_ID
from artwork.api.responses import AUTH, errors
from artwork.api.routes.jobs import job_public
from artwork.api.schemas import JobPublic
from artwork.catalog.jobs import JobStore
from artwork.domain import Title
from artwork.errors import InvalidInputError, PermissionDeniedError

router = APIRouter(prefix="/v1/titles", tags=["titles"])

MAX_GENRES = 16
_PRINTABLE = re.compile(PRINTABLE)
_TRUE, _FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off", ""}

UPLOAD_FORM: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["title_id", "name", "video"],
                    "properties": {
                        "title_id": {"type": "string", "pattern": TITLE_ID},
                        "name": {"type": "string", "minLength": 1, "maxLength": 512},
                        "genre": {
                            "type": "array",
                            "items": {"type": "string", "maxLength": 64},
                            "maxItems": MAX_GENRES,
                        },
                        "replace": {"type": "boolean", "default": False},
                        "auto_approve": {"type": "boolean", "default": False},
                        "video": {"type": "string", "format": "binary"},
                    },
                },
                "encoding": {"video": {"contentType": "video/*, application/octet-stream"}},
            }
        },
    }
}


def _flag(fields: dict[str, list[str]], name: str) -> bool:
    value = (fields.get(name) or [""])[-1].strip().lower()
    if value not in _TRUE | _FALSE:
        raise InvalidInputError(f"{name} must be true or false, got {value[:20]!r}")
    return value in _TRUE


def _one(fields: dict[str, list[str]], name: str, max_length: int) -> str:
    values = fields.get(name) or []
    if len(values) != 1:
        raise InvalidInputError(f"give exactly one form field {name!r} (before the video)")
    value = values[0]
    if not 1 <= len(value) <= max_length or not _PRINTABLE.match(value):
        raise InvalidInputError(
            f"{name} must be 1-{max_length} printable characters, without surrounding spaces"
        )
    return value


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobPublic,
    responses=errors(*AUTH, 409, 415)
    | {202: {"description": "The upload is stored; extraction runs as the job."}},
    openapi_extra=UPLOAD_FORM,
)
async def upload_title(request: Request, services: ServicesDep, editor: EditorKey) -> JSONResponse:
    """Upload a video (form fields first, then ``video``); answers 202 with the job.

    ``replace`` needs a key with the ``replace`` scope; variants stay ``proposed`` unless
    ``auto_approve`` is true.
    """
    checked: dict[str, Any] = {}

    def check(fields: dict[str, list[str]]) -> None:
        title_id = _one(fields, "title_id", 128)
        if not re.match(TITLE_ID, title_id):
            raise InvalidInputError(
                "title_id must be 1-128 letters, digits, '.', '_' or '-', starting with a "
                "letter or digit"
            )
        name = _one(fields, "name", 512)
        genres = fields.get("genre", [])
        if len(genres) > MAX_GENRES or any(len(g) > 64 for g in genres):
            raise InvalidInputError(f"at most {MAX_GENRES} genres of 64 characters each")
        replace = _flag(fields, "replace")
        if replace and not editor.has("replace"):
            raise PermissionDeniedError(
                "replacing a title needs a key with the 'replace' scope "
                "(`artwork keys create --scope editor --scope replace`)"
            )
        title = services.ingestor.check(
            title_id=title_id, name=name, genres=genres, replace=replace
        )
        checked.update(title=title, replace=replace, auto_approve=_flag(fields, "auto_approve"))

    upload = await read_upload(
        request.stream(),
        request.headers.get("content-type", ""),
        file_field="video",
        folder=process_folder(services.settings.home / "uploads"),
        limit=services.settings.max_upload_mb << 20,
        check_fields=check,
    )
    assert upload.path is not None
    title: Title = checked["title"]
    store: JobStore = request.app.state.jobs
    runner: JobRunner = request.app.state.job_runner
    try:
        job = store.create("upload", title.title_id, editor.key_id)
    except BaseException:
        upload.path.unlink(missing_ok=True)
        raise
    runner.submit(
        job,
        UploadJob(
            path=upload.path,
            title=title,
            replace=checked["replace"],
            auto_approve=checked["auto_approve"],
            filename=upload.filename,
        ),
    )
    body = job_public(job).model_dump(mode="json")
    return JSONResponse(body, status_code=202, headers={"Location": f"/v1/jobs/{job.job_id}"})
