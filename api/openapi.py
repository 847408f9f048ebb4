"""OpenAPI 3.1, generated from the same pydantic models that validate requests and shape answers."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from api import schemas
from api.accountability_routes import accountability_openapi
from api.authority_routes import authority_openapi
from api.claim_list_routes import claim_list_openapi
from api.key_backup_routes import key_backup_openapi
from api.notice_routes import notice_openapi
from registry.checking import CheckRequest
from registry.documents import Claim, ClaimWithdrawal

_REF = "#/components/schemas/{model}"
_PROBLEM = {"application/problem+json": {"schema": {"$ref": _REF.format(model="Problem")}}}


def _json(model: type[BaseModel]) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": _REF.format(model=model.__name__)}}}


def _operation(
    summary: str,
    answer: type[BaseModel],
    status: str = "200",
    body: type[BaseModel] | None = None,
    **errors: str,
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "responses": {status: {"description": "OK", "content": _json(answer)}},
    }
    if body is not None:
        operation["requestBody"] = {"required": True, "content": _json(body)}
    for code, description in errors.items():
        operation["responses"][code.lstrip("e")] = {"description": description, "content": _PROBLEM}
    return operation


_CLAIM_ID = [{"name": "claim_id", "in": "path", "required": True, "schema": {"type": "string"}}]
_INTAKE_ERRORS = {
    "e400": "not strict JSON",
    "e409": "nonce already used",
    "e413": "body too large",
    "e422": "schema, proof or clock window",
}


@cache
def openapi_document() -> dict[str, Any]:
    models: list[type[BaseModel]] = [
        Claim,
        ClaimWithdrawal,
        CheckRequest,
        schemas.Receipt,
        schemas.WithdrawalReceipt,
        schemas.ClaimEnvelope,
        schemas.CheckAnswer,
        schemas.RegistryInfo,
        schemas.InclusionProof,
        schemas.ConsistencyProof,
        schemas.Problem,
    ]
    inputs = {Claim, ClaimWithdrawal, CheckRequest}
    _, top = models_json_schema(
        [(model, "validation" if model in inputs else "serialization") for model in models], ref_template=_REF
    )
    components = top.get("$defs", {})
    paths = {
        "/v1/registry": {"get": _operation("The registry's identity and limits", schemas.RegistryInfo)},
        "/healthz": {
            "get": {
                "summary": "Liveness, including the database",
                "responses": {"200": {"description": "OK"}},
            }
        },
        "/v1/claims": {
            "post": _operation(
                "File a signed claim (the body is the claim document itself)",
                schemas.Receipt,
                "201",
                Claim,
                **_INTAKE_ERRORS,
            )
        },
        "/v1/claims/{claim_id}": {
            "get": {
                **_operation(
                    "A claim as filed, with its status", schemas.ClaimEnvelope, e404="no such claim"
                ),
                "parameters": _CLAIM_ID,
            }
        },
        "/v1/claims/{claim_id}/withdraw": {
            "post": {
                **_operation(
                    "Withdraw a claim (the body is the claimant's signed withdrawal)",
                    schemas.WithdrawalReceipt,
                    "200",
                    ClaimWithdrawal,
                    e403="not the claimant",
                    e404="no such claim",
                    **_INTAKE_ERRORS,
                ),
                "parameters": _CLAIM_ID,
            }
        },
        "/v1/check": {
            "post": _operation(
                "Decide items against the claims in force",
                schemas.CheckAnswer,
                "200",
                CheckRequest,
                e400="not strict JSON",
                e413="body too large",
                e422="invalid items, or too many",
            )
        },
    }
    number = {"type": "integer", "minimum": 0}
    binary = {"description": "OK", "content": {"application/octet-stream": {}}}
    paths |= {
        "/log/checkpoint": {
            "get": {
                "summary": "The latest C2SP checkpoint, signed as a C2SP note",
                "responses": {"200": {"description": "OK", "content": {"text/plain": {}}}},
            }
        },
        "/log/tile/{path}": {
            "get": {
                "summary": "C2SP tlog-tiles: hash tiles {L}/{N}[.p/{W}], entry bundles entries/{N}[.p/{W}]",
                "parameters": [
                    {"name": "path", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {
                    "200": binary,
                    "400": {"description": "not a tile path", "content": _PROBLEM},
                    "404": {"description": "beyond the log", "content": _PROBLEM},
                },
            }
        },
        "/v1/log/proof/inclusion": {
            "get": {
                **_operation(
                    "RFC 9162 inclusion proof",
                    schemas.InclusionProof,
                    e400="bad parameter",
                    e404="no such leaf",
                ),
                "parameters": [
                    {"name": "hash", "in": "query", "required": True, "schema": {"type": "string"}},
                    {"name": "tree_size", "in": "query", "required": True, "schema": number},
                ],
            }
        },
        "/v1/log/proof/consistency": {
            "get": {
                **_operation("RFC 9162 consistency proof", schemas.ConsistencyProof, e400="bad parameter"),
                "parameters": [
                    {"name": "first", "in": "query", "required": True, "schema": number},
                    {"name": "second", "in": "query", "required": True, "schema": number},
                ],
            }
        },
    }
    notice_paths, notice_components = notice_openapi()
    paths |= notice_paths
    components |= notice_components
    listing, listing_components = claim_list_openapi()
    paths["/v1/claims"]["get"] = listing
    components |= listing_components
    authority_paths, authority_components = authority_openapi()
    paths |= authority_paths
    components |= authority_components
    accountability_paths, accountability_components = accountability_openapi()
    paths |= accountability_paths
    components |= accountability_components
    backup_paths, backup_components = key_backup_openapi()
    paths |= backup_paths
    components |= backup_components
    return {
        "openapi": "3.1.0",
        "info": {"title": "Kotowari registry", "version": "1"},
        "paths": paths,
        "components": {"schemas": components},
    }
