"""HTTP endpoints of the takedown side: operators, notices, their steps, inboxes, statistics,
exports and disputes. Thin, like `api.routes`: read the body under the limit, call the store.

Bodies are the signed documents themselves (RFC 8785 canonical JSON is not required, strict JSON
is). Errors are RFC 9457 problem+json with stable types (`wrong-party` 403, `illegal-transition`
409, `operator-name-taken` 409, `invalid-document` 422 listing every missing regime element, …).
Every answer that names an operator carries its `operator_profile` (domain and authority).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.bodies import read_body
from api.state import RegistryState
from registry.errors import InvalidParameter, NotFound
from registry.notices.directory import (
    MAX_LIMIT,
    OperatorPage,
    OperatorRecordAnswer,
    check_did,
    directory,
    operator_entry,
    parse_query,
)
from registry.notices.documents import Dispute, Notice, NoticeResponse, OperatorRegistration
from registry.notices.lifecycle import STATES
from registry.notices.store import NoticeStore
from registry.privacy.access import Requester, authenticate


def _store(request: Request) -> tuple[RegistryState, NoticeStore]:
    state: RegistryState = request.app.state.registry
    assert state.notices is not None, "the notice store starts with the application"
    return state, state.notices


async def register_operator(request: Request) -> Response:
    state, store = _store(request)
    receipt = await store.register_operator(await read_body(request, state.settings.max_body_bytes))
    return JSONResponse(receipt, status_code=201)


async def file_notice(request: Request) -> Response:
    state, store = _store(request)
    receipt = await store.file_notice(await read_body(request, state.settings.max_body_bytes))
    return JSONResponse(receipt, status_code=201, headers={"Location": f"/v1/notices/{receipt['id']}"})


async def get_notice(request: Request) -> Response:
    _, store = _store(request)
    return JSONResponse(await store.get_notice(request.path_params["notice_id"]))


async def respond(request: Request) -> Response:
    state, store = _store(request)
    body = await read_body(request, state.settings.max_body_bytes)
    return JSONResponse(await store.respond(request.path_params["notice_id"], body), status_code=201)


async def inbox(request: Request) -> Response:
    _, store = _store(request)
    wanted = request.query_params.get("state")
    if wanted is not None and wanted not in STATES:
        raise InvalidParameter(f"state must be one of {', '.join(STATES)}", [("/state", "unknown state")])
    return JSONResponse(await store.inbox(request.path_params["did"], wanted))


async def operator_stats(request: Request) -> Response:
    _, store = _store(request)
    answer = await store.stats()
    wanted = request.query_params.get("operator")
    if wanted is not None:
        check_did(wanted, "/operator")
        answer["operators"] = [row for row in answer["operators"] if row["operator"] == wanted]
        if not answer["operators"]:
            raise NotFound(f"{wanted} has neither registered nor been sent a notice")
    return JSONResponse(answer)


async def list_operators(request: Request) -> Response:
    _, store = _store(request)
    page = await directory(store, parse_query(request.query_params))
    headers = {"Link": f'<{page["next"]}>; rel="next"'} if page["next"] else {}
    return JSONResponse(page, headers=headers)


async def get_operator(request: Request) -> Response:
    state, store = _store(request)
    entry = await operator_entry(store, request.path_params["did"])
    if state.accountability is not None:  # its public record, from the log (api.accountability_routes)
        entry["record"] = await state.accountability.record(entry["did"])
    return JSONResponse(entry)


async def export(request: Request) -> Response:
    _, store = _store(request)
    return JSONResponse(await store.export(request.path_params["notice_id"], request.path_params["form"]))


async def _requester(request: Request) -> Requester:
    state, store = _store(request)
    return await authenticate(
        request.method,
        str(request.url),
        request.headers,
        now=store.clock(),
        resolver=store.ledger.resolver,
        retired=state.claims.index.authority.retired,
    )


async def notice_personal(request: Request) -> Response:
    """The notice's personal data, for its notifier or its (registered) operator; recorded."""
    _, store = _store(request)
    requester = await _requester(request)
    answer = await store.privacy.read(request.path_params["notice_id"], requester)
    return JSONResponse(answer, headers={"Cache-Control": "no-store"})


async def operator_personal(request: Request) -> Response:
    _, store = _store(request)
    requester = await _requester(request)
    answer = await store.privacy.operator_parts(request.path_params["did"], requester)
    return JSONResponse(answer, headers={"Cache-Control": "no-store"})


async def erase_personal(request: Request) -> Response:
    state, store = _store(request)
    body = await read_body(request, state.settings.max_body_bytes)
    receipt = await store.privacy.erase(body, notice_id=request.path_params["notice_id"])
    return JSONResponse(receipt, status_code=201)


async def erase_operator_personal(request: Request) -> Response:
    state, store = _store(request)
    body = await read_body(request, state.settings.max_body_bytes)
    return JSONResponse(await store.privacy.erase(body), status_code=201)


async def open_dispute(request: Request) -> Response:
    state, store = _store(request)
    receipt = await store.open_dispute(await read_body(request, state.settings.max_body_bytes))
    return JSONResponse(receipt, status_code=201)


async def claim_links(request: Request) -> Response:
    _, store = _store(request)
    return JSONResponse(await store.claim_links(request.path_params["claim_id"]))


NOTICE_ROUTES = [
    Route("/v1/operators", register_operator, methods=["POST"]),
    Route("/v1/operators", list_operators, methods=["GET"]),
    Route("/v1/operators/{did}", get_operator, methods=["GET"]),
    Route("/v1/operators/{did}/notices", inbox, methods=["GET"]),
    Route("/v1/notices", file_notice, methods=["POST"]),
    Route("/v1/notices/{notice_id}", get_notice, methods=["GET"]),
    Route("/v1/notices/{notice_id}/responses", respond, methods=["POST"]),
    Route("/v1/notices/{notice_id}/personal", notice_personal, methods=["GET"]),
    Route("/v1/notices/{notice_id}/erasure", erase_personal, methods=["POST"]),
    Route("/v1/operators/{did}/personal", operator_personal, methods=["GET"]),
    Route("/v1/operators/{did}/erasure", erase_operator_personal, methods=["POST"]),
    Route("/v1/notices/{notice_id}/export/{form}", export, methods=["GET"]),
    Route("/v1/stats/operators", operator_stats, methods=["GET"]),
    Route("/v1/disputes", open_dispute, methods=["POST"]),
    Route("/v1/claims/{claim_id}/links", claim_links, methods=["GET"]),
]


# ------------------------------------------------------------------ OpenAPI

_REF = "#/components/schemas/{model}"
_PROBLEM = {"application/problem+json": {"schema": {"$ref": _REF.format(model="Problem")}}}
_OBJECT = {"application/json": {"schema": {"type": "object"}}}
_INTAKE = {
    "400": "not strict JSON",
    "409": "nonce already used",
    "413": "body too large",
    "422": "schema, proof, clock window or missing regime elements",
}


def _op(
    summary: str, status: str = "200", body: type[BaseModel] | None = None, **errors: str
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "responses": {status: {"description": "OK", "content": _OBJECT}},
    }
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": _REF.format(model=body.__name__)}}},
        }
    for code, description in errors.items():
        operation["responses"][code] = {"description": description, "content": _PROBLEM}
    return operation


def _query(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "string"},
    }


def _schema(model: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": _REF.format(model=model)}}}


def _path(name: str) -> list[dict[str, Any]]:
    return [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}]


def notice_openapi() -> tuple[dict[str, Any], dict[str, Any]]:
    """(paths, component schemas) for the takedown endpoints, from the validating models."""
    models: list[type[BaseModel]] = [Notice, OperatorRegistration, NoticeResponse, Dispute]
    answers: list[type[BaseModel]] = [OperatorPage, OperatorRecordAnswer]
    _, top = models_json_schema(
        [(model, "validation") for model in models] + [(model, "serialization") for model in answers],
        ref_template=_REF,
    )
    respond_errors = {**_INTAKE, "403": "not a party allowed this step", "404": "no such notice"}
    respond_errors["409"] = "illegal transition, or nonce already used"
    paths: dict[str, Any] = {
        "/v1/operators": {
            "get": {
                "summary": "The operator directory: registered operators by DID, with name, domain and "
                "authority, whether they have a webhook (never its URL), and links to their notices and "
                "statistics",
                "parameters": [
                    _query("name", "only operators whose name contains this (compared folded)"),
                    _query(
                        "domain",
                        "only operators verified for this domain or a host below it, or a did:web on it",
                    ),
                    _query("cursor", "the previous page's `cursor`, with the same filters"),
                    {
                        "name": "limit",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 50},
                    },
                ],
                "responses": {
                    "200": {"description": "OK", "content": _schema("OperatorPage")},
                    "400": {
                        "description": "unknown parameter, bad cursor, limit out of range, or not a domain",
                        "content": _PROBLEM,
                    },
                },
            },
            "post": _op(
                "Register an operator (signed registration, by a did:key or a did:web)",
                "201",
                OperatorRegistration,
                **{
                    **_INTAKE,
                    "409": "nonce already used, or operator-name-taken: a domain-verified operator "
                    "holds the name",
                },
            ),
        },
        "/v1/operators/{did}": {
            "get": {
                "summary": "One registered operator's directory entry and public record (disclosures, "
                "notices, timeliness, repeat findings, information requests), computed from the log",
                "parameters": _path("did"),
                "responses": {
                    "200": {"description": "OK", "content": _schema("OperatorRecordAnswer")},
                    "400": {"description": "not a DID", "content": _PROBLEM},
                    "404": {"description": "not registered", "content": _PROBLEM},
                },
            }
        },
        "/v1/operators/{did}/notices": {
            "get": {
                **_op("An operator's inbox, oldest first", e400="not a DID, or unknown state"),
                "parameters": [
                    *_path("did"),
                    {
                        "name": "state",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "enum": list(STATES)},
                    },
                ],
            }
        },
        "/v1/notices": {
            "post": _op(
                "File a signed takedown notice; its personal part may ask (`notify`: webhook, email) to be "
                "told of every change of state (registry.notices.notify)",
                "201",
                Notice,
                **_INTAKE,
            )
        },
        "/v1/notices/{notice_id}": {
            "get": {
                **_op("A notice, its steps, deadlines and webhook attempts", e404="no such notice"),
                "parameters": _path("notice_id"),
            }
        },
        "/v1/notices/{notice_id}/responses": {
            "post": {
                **_op("Take a lifecycle step (signed response)", "201", NoticeResponse, **respond_errors),
                "parameters": _path("notice_id"),
            }
        },
        "/v1/notices/{notice_id}/export/{form}": {
            "get": {
                **_op(
                    "Export: the notice as Lumen JSON, or its decision as a DSA statement of reasons",
                    e404="no such notice or format",
                    e409="no restriction decision to report",
                ),
                "parameters": [*_path("notice_id"), *_path("form")],
            }
        },
        "/v1/notices/{notice_id}/personal": {
            "get": {
                **_op(
                    "The notice's personal data, for its notifier or registered operator (RFC 9421 signed "
                    "request, tag kotowari-access); each read is recorded",
                    e401="no signature, or a signature that is malformed, stale, reused or does not verify",
                    e403="not the notifier or the registered operator",
                    e404="no such notice",
                ),
                "parameters": _path("notice_id"),
            }
        },
        "/v1/notices/{notice_id}/erasure": {
            "post": {
                **_op(
                    "Erase personal parts of the notice (signed PersonalDataErasure by their author)",
                    "201",
                    e403="not the author of the part, or a ground only the registry may use",
                    e404="no such notice or part",
                    e409="erased before, or nonce already used",
                    e422="schema, proof or clock window",
                ),
                "parameters": _path("notice_id"),
            }
        },
        "/v1/operators/{did}/personal": {
            "get": {
                **_op(
                    "An operator's own registrations' personal parts (RFC 9421 signed request)",
                    e401="no or bad signature",
                    e403="not the operator",
                ),
                "parameters": _path("did"),
            }
        },
        "/v1/operators/{did}/erasure": {
            "post": {
                **_op("Erase personal parts of one's registrations (signed PersonalDataErasure)", "201"),
                "parameters": _path("did"),
            }
        },
        "/v1/stats/operators": {
            "get": {
                **_op(
                    "Per-operator responsiveness, computed from logged documents; each operator's domain "
                    "and authority, domain-verified operators first",
                    e400="operator is not a DID",
                    e404="the operator neither registered nor was sent a notice",
                ),
                "parameters": [_query("operator", "only this operator's row (a DID)")],
            }
        },
        "/v1/disputes": {
            "post": _op(
                "Dispute another claimant's claim on the same subject",
                "201",
                Dispute,
                e403="not your claim",
                **_INTAKE,
            )
        },
        "/v1/claims/{claim_id}/links": {
            "get": {
                **_op("Claims by others on the same subject, and disputes", e404="no such claim"),
                "parameters": _path("claim_id"),
            }
        },
    }
    for operation in (op for methods in paths.values() for op in methods.values()):
        for code in list(operation["responses"]):
            if code.startswith("e"):
                operation["responses"][code[1:]] = operation["responses"].pop(code)
    return paths, top.get("$defs", {})
