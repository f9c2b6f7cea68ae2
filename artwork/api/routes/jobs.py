"""GET /v1/jobs/{job_id}: an upload's extraction, its state and progress."""

from __future__ import annotations

from fastapi import APIRouter, Path, Request

from artwork.api.deps import EditorKey
from artwork.api.responses import AUTH, errors
from artwork.api.schemas import JobPublic
from artwork.catalog.jobs import Job, JobStore

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


def job_public(job: Job) -> JobPublic:
    return JobPublic(
        job_id=job.job_id,
        kind=job.kind,
        title_id=job.title_id,
        state=job.state,
        progress=job.progress,
        message=job.message,
        created_at=job.created_at,
        updated_at=job.updated_at,
    )


@router.get("/{job_id}", response_model=JobPublic, responses=errors(*AUTH, 404))
def get_job(
    request: Request,
    _editor: EditorKey,
    job_id: str = Path(pattern=r"^[0-9a-f]{16}$", description="From POST /v1/titles."),
) -> JobPublic:
    store: JobStore = request.app.state.jobs
    return job_public(store.get(job_id))
