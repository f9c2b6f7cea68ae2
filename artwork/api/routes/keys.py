"""API keys for admins: create (the key is shown once), list, revoke."""

from __future__ import annotations

from fastapi import APIRouter, Path, status

from artwork.api.deps import AdminKey, KeyStoreDep
from artwork.api.responses import AUTH, BODY, errors
from artwork.api.schemas import KeyCreate, KeyCreatedPublic, KeyPublic
from artwork.catalog.keys import ApiKey

router = APIRouter(prefix="/v1/keys", tags=["keys"])

KeyId = Path(pattern=r"^[0-9a-f]{12}$", description="The key's id (not the key).")


def key_public(record: ApiKey) -> KeyPublic:
    return KeyPublic(
        id=record.key_id,
        name=record.name,
        scopes=sorted(record.scopes),
        created_at=record.created_at,
        revoked_at=record.revoked_at,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=KeyCreatedPublic,
    responses=errors(*AUTH, *BODY),
)
def create_key(body: KeyCreate, keys: KeyStoreDep, _admin: AdminKey) -> KeyCreatedPublic:
    created = keys.create(body.scopes, body.name)
    return KeyCreatedPublic(
        key=created.key,
        id=created.record.key_id,
        name=created.record.name,
        scopes=sorted(created.record.scopes),
    )


@router.get("", response_model=list[KeyPublic], responses=errors(*AUTH))
def list_keys(keys: KeyStoreDep, _admin: AdminKey) -> list[KeyPublic]:
    return [key_public(k) for k in keys.list()]


@router.delete("/{key_id}", response_model=KeyPublic, responses=errors(*AUTH, 404))
def revoke_key(keys: KeyStoreDep, _admin: AdminKey, key_id: str = KeyId) -> KeyPublic:
    return key_public(keys.revoke(key_id))
