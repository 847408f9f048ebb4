"""The HTTP endpoints. Each handler is thin: read the body under the limit, call the store."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.accountability_routes import ACCOUNTABILITY_ROUTES
from api.authority_routes import AUTHORITY_ROUTES
from api.bodies import is_json_array, read_body, split_json_array
from api.claim_list_routes import CLAIM_LIST_ROUTES
from api.key_backup_routes import KEY_BACKUP_ROUTES
from api.log_routes import LOG_ROUTES
from api.notice_routes import NOTICE_ROUTES
from api.openapi import openapi_document
from api.portal import PORTAL_ROUTES
from api.problems import language_of, problem_body
from api.snapshot_routes import SNAPSHOT_ROUTES
from api.state import RegistryState
from registry.errors import RegistryError
from registry.vocabulary import DESCRIPTIONS, USES


def _state(request: Request) -> RegistryState:
    state: RegistryState = request.app.state.registry
    return state


async def registry_info(request: Request) -> Response:
    state = _state(request)
    return JSONResponse(
        {
            "did": state.key.did,
            "log": {"origin": state.log.origin, "note_verifier_key": state.log.verifier_key},
            "embedding_spaces": dict(state.settings.embedding_spaces),
            "uses": [{"use": use, "description": DESCRIPTIONS[use]} for use in USES],
            "limits": {
                "max_body_bytes": state.settings.max_body_bytes,
                "max_check_items": state.settings.max_check_items,
                "max_bulk_documents": state.settings.max_bulk_documents,
                "max_age_seconds": state.settings.max_age_seconds,
                "max_skew_seconds": state.settings.max_skew_seconds,
            },
        }
    )


async def healthz(request: Request) -> Response:
    await _state(request).ping()
    return JSONResponse({"status": "ok"})


async def file_claim(request: Request) -> Response:
    """One signed claim (201 and its receipt), or a JSON array of them (200 and one result each)."""
    state = _state(request)
    raw = await read_body(request, state.settings.max_body_bytes)
    if is_json_array(raw):
        outcomes = await state.claims.file_claims(split_json_array(raw, state.settings.max_bulk_documents))
        results = [
            problem_body(outcome, language_of(request.headers))
            if isinstance(outcome, RegistryError)
            else {"status": 201, **outcome}
            for outcome in outcomes
        ]
        filed = sum(result["status"] == 201 for result in results)
        return JSONResponse({"filed": filed, "refused": len(results) - filed, "results": results})
    receipt = await state.claims.file_claim(raw)
    return JSONResponse(receipt, status_code=201, headers={"Location": f"/v1/claims/{receipt['id']}"})


async def get_claim(request: Request) -> Response:
    return JSONResponse(await _state(request).claims.get_claim(request.path_params["claim_id"]))


async def withdraw_claim(request: Request) -> Response:
    state = _state(request)
    body = await read_body(request, state.settings.max_body_bytes)
    return JSONResponse(await state.claims.withdraw_claim(request.path_params["claim_id"], body))


async def check(request: Request) -> Response:
    """The raw body goes to the store, which reads a body of plain URL items without parsing it
    whole (`registry.check_urls`) and parses any other strictly, as `read_json` does."""
    state = _state(request)
    body = await read_body(request, state.settings.max_body_bytes)
    return Response(await state.claims.check_bytes(body), media_type="application/json")


async def openapi(request: Request) -> Response:
    return JSONResponse(openapi_document())


ROUTES = [
    *LOG_ROUTES,
    *SNAPSHOT_ROUTES,
    *NOTICE_ROUTES,
    *AUTHORITY_ROUTES,
    *ACCOUNTABILITY_ROUTES,
    *KEY_BACKUP_ROUTES,
    Route("/v1/registry", registry_info, methods=["GET"]),
    Route("/healthz", healthz, methods=["GET"]),
    Route("/openapi.json", openapi, methods=["GET"]),
    *CLAIM_LIST_ROUTES,  # GET /v1/claims
    Route("/v1/claims", file_claim, methods=["POST"]),
    Route("/v1/claims/{claim_id}", get_claim, methods=["GET"]),
    Route("/v1/claims/{claim_id}/withdraw", withdraw_claim, methods=["POST"]),
    Route("/v1/check", check, methods=["POST"]),
    *PORTAL_ROUTES,
]
