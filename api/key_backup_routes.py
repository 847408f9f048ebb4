"""Passkey-wrapped key backups over HTTP (see registry.key_backup): opaque ciphertext per WebAuthn
credential id, never a key in clear; rate-limited, size-limited, RFC 9457 problems.

    PUT    /v1/key-backups/{credential_id}   body: a KeyBackup signed by the key's DID (≤ 4 KiB)
    GET    /v1/key-backups/{credential_id}   the wrapped key, its DID and when it was made
    DELETE /v1/key-backups/{credential_id}   body: a KeyBackupDeletion signed by the same DID
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.bodies import read_body
from api.rate_limit import RateLimit
from api.state import RegistryState
from registry.errors import InvalidParameter
from registry.key_backup import KeyBackup, KeyBackupDeletion, KeyBackupStore

_REF = "#/components/schemas/{model}"

MAX_BACKUP_BYTES = 4096
WRITES_PER_MINUTE = 10
READS_PER_MINUTE = 60
_CREDENTIAL = re.compile(r"[A-Za-z0-9_-]{16,512}")


def _limit(request: Request, kind: str) -> None:
    """Count the request against this application's per-client limit for `kind` (write or read)."""
    limits = getattr(request.app.state, "key_backup_limits", None)
    if limits is None:
        limits = {
            "write": RateLimit(limit=WRITES_PER_MINUTE, window=60.0),
            "read": RateLimit(limit=READS_PER_MINUTE, window=60.0),
        }
        request.app.state.key_backup_limits = limits
    limits[kind].check(request)


def _store(request: Request) -> KeyBackupStore:
    state: RegistryState = request.app.state.registry
    return KeyBackupStore(clock=state.claims.clock, window=state.settings.clock_window)


def _credential(request: Request) -> str:
    credential_id = str(request.path_params["credential_id"])
    if not _CREDENTIAL.fullmatch(credential_id):
        raise InvalidParameter(
            "a credential id is 16 to 512 base64url characters", [("/credential_id", "not a credential id")]
        )
    return credential_id


async def put_backup(request: Request) -> Response:
    _limit(request, "write")
    credential_id = _credential(request)
    body = await read_body(request, MAX_BACKUP_BYTES)
    return JSONResponse(await _store(request).put(credential_id, body), status_code=201)


async def get_backup(request: Request) -> Response:
    _limit(request, "read")
    answer = await _store(request).get(_credential(request))
    return JSONResponse(answer, headers={"Cache-Control": "no-store"})


async def delete_backup(request: Request) -> Response:
    _limit(request, "write")
    credential_id = _credential(request)
    await _store(request).delete(credential_id, await read_body(request, MAX_BACKUP_BYTES))
    return Response(status_code=204)


KEY_BACKUP_ROUTES = [
    Route("/v1/key-backups/{credential_id}", put_backup, methods=["PUT"]),
    Route("/v1/key-backups/{credential_id}", get_backup, methods=["GET"]),
    Route("/v1/key-backups/{credential_id}", delete_backup, methods=["DELETE"]),
]


def key_backup_openapi() -> tuple[dict[str, Any], dict[str, Any]]:
    """(paths, component schemas) for the key backup endpoints, from the validating models."""
    models: list[type[BaseModel]] = [KeyBackup, KeyBackupDeletion]
    _, top = models_json_schema([(model, "validation") for model in models], ref_template=_REF)
    problem = {"application/problem+json": {"schema": {"$ref": _REF.format(model="Problem")}}}

    def errors(*codes: str) -> dict[str, Any]:
        said = {
            "400": "not strict JSON, or not a credential id",
            "404": "no backup for this credential id",
            "409": "not newer than the backup kept",
            "413": "body over 4 KiB",
            "422": "schema, proof, clock window, or signed by another DID than the owner",
            "429": "too many requests from this client (Retry-After)",
        }
        return {code: {"description": said[code], "content": problem} for code in codes}

    parameter = [{"name": "credential_id", "in": "path", "required": True, "schema": {"type": "string"}}]
    body = {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": _REF.format(model="KeyBackup")}}},
    }
    deletion = {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": _REF.format(model="KeyBackupDeletion")}}},
    }
    paths = {
        "/v1/key-backups/{credential_id}": {
            "parameters": parameter,
            "put": {
                "summary": "Keep a passkey-wrapped key (opaque ciphertext) for a WebAuthn credential id",
                "requestBody": body,
                "responses": {"201": {"description": "kept"}, **errors("400", "409", "413", "422", "429")},
            },
            "get": {
                "summary": "The wrapped key kept for a credential id, and its DID",
                "responses": {"200": {"description": "the backup"}, **errors("400", "404", "429")},
            },
            "delete": {
                "summary": "Delete the backup (signed by its DID)",
                "requestBody": deletion,
                "responses": {"204": {"description": "deleted"}, **errors("400", "404", "413", "422", "429")},
            },
        }
    }
    return paths, top.get("$defs", {})
