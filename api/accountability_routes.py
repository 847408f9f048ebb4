"""HTTP endpoints of operator accountability: disclosures, manifests as evidence, authorities,
information requests, and the public records (JSON and CSV), with the portal's two pages.

Thin, like `api.routes`: read the body under the limit, call `registry.accountability.store`.
Records are computed from the log at `tree_size`, deadlines judged at `computed_at` (`?at=` to
judge them at another moment), so anyone can recompute them from the tiles.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.bodies import read_body
from api.portal.rendering import error_page, render
from api.state import RegistryState
from registry.accountability.answers import OperatorAccountabilityRecord, OperatorRanking
from registry.accountability.documents import Disclosure, InformationAnswer, InformationRequest
from registry.accountability.record import SORTS, Sort, notices_csv, ranking_csv
from registry.accountability.store import AccountabilityStore
from registry.documents import parse_timestamp
from registry.errors import InvalidParameter, RegistryError
from registry.notices.directory import check_did


def _store(request: Request) -> tuple[RegistryState, AccountabilityStore]:
    state: RegistryState = request.app.state.registry
    assert state.accountability is not None, "the accountability store starts with the application"
    return state, state.accountability


def _params(request: Request, allowed: set[str]) -> dict[str, str]:
    """The query string, each parameter at most once and known (400 `invalid-parameter` naming it)."""
    seen: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        if name not in allowed:
            known = ", ".join(sorted(allowed))
            raise InvalidParameter(f"unknown parameter {name!r} ({known})", [(f"/{name}", "unknown")])
        if name in seen:
            raise InvalidParameter(f"{name} given more than once", [(f"/{name}", "repeated")])
        seen[name] = value
    return seen


def _at(params: dict[str, str]) -> datetime | None:
    text = params.get("at")
    if text is None:
        return None
    try:
        return parse_timestamp(text).replace(tzinfo=UTC)
    except ValueError as exc:
        raise InvalidParameter(f"at: {exc}", [("/at", str(exc))]) from None


def _format(params: dict[str, str]) -> str:
    form = params.get("format", "json")
    if form not in ("json", "csv"):
        raise InvalidParameter("format is json or csv", [("/format", "unknown format")])
    return form


def _sort(params: dict[str, str]) -> Sort:
    sort = params.get("sort", "overdue")
    for known in SORTS:
        if sort == known:
            return known
    raise InvalidParameter(f"sort is one of {', '.join(SORTS)}", [("/sort", "unknown sort")])


def _csv(text: str, name: str) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(text, media_type="text/csv; charset=utf-8", headers=headers)


async def file_disclosure(request: Request) -> Response:
    state, store = _store(request)
    receipt = await store.file_disclosure(await read_body(request, state.settings.max_body_bytes))
    return JSONResponse(receipt, status_code=201, headers={"Location": f"/v1/disclosures/{receipt['id']}"})


async def get_disclosure(request: Request) -> Response:
    _, store = _store(request)
    return JSONResponse(await store.get_disclosure(request.path_params["disclosure_id"]))


async def submit_manifest(request: Request) -> Response:
    state, store = _store(request)
    answer, created = await store.submit_manifest(await read_body(request, state.settings.max_body_bytes))
    headers = {"Location": f"/v1/manifests/{answer['sha256']}"}
    return JSONResponse(answer, status_code=201 if created else 200, headers=headers)


async def get_manifest(request: Request) -> Response:
    _, store = _store(request)
    return JSONResponse(await store.get_manifest(request.path_params["sha256"]))


async def authorities(request: Request) -> Response:
    _, store = _store(request)
    return JSONResponse(await store.authorities())


async def file_request(request: Request) -> Response:
    state, store = _store(request)
    receipt = await store.file_request(await read_body(request, state.settings.max_body_bytes))
    location = f"/v1/information-requests/{receipt['id']}"
    return JSONResponse(receipt, status_code=201, headers={"Location": location})


async def get_request(request: Request) -> Response:
    _, store = _store(request)
    return JSONResponse(await store.get_request(request.path_params["request_id"]))


async def answer_request(request: Request) -> Response:
    state, store = _store(request)
    body = await read_body(request, state.settings.max_body_bytes)
    return JSONResponse(await store.answer_request(request.path_params["request_id"], body), status_code=201)


async def operator_ranking(request: Request) -> Response:
    _, store = _store(request)
    params = _params(request, {"sort", "at", "format"})
    form, sort, at = _format(params), _sort(params), _at(params)
    answer = await store.ranking(sort, at)
    if form == "csv":
        return _csv(ranking_csv(answer), f"operators-by-{sort}-{answer['tree_size']}.csv")
    return JSONResponse(answer)


async def operator_record(request: Request) -> Response:
    _, store = _store(request)
    params = _params(request, {"at", "format"})
    form, at = _format(params), _at(params)
    did = request.path_params["did"]
    check_did(did)
    record = await store.record(did, at, known=True)
    if form == "csv":
        return _csv(notices_csv(record), f"notices-{record['tree_size']}.csv")
    return JSONResponse(record)


# ------------------------------------------------------------------ the portal's pages


async def ranking_page(request: Request) -> Response:
    _, store = _store(request)
    sort = request.query_params.get("sort", "overdue")
    answer = await store.ranking(_sort({"sort": sort}) if sort in SORTS else "overdue")
    return render(request, "operator_ranking.html", {"ranking": answer, "sorts": SORTS})


async def record_page(request: Request) -> Response:
    _, store = _store(request)
    did = request.path_params["did"]
    try:
        check_did(did)
        record = await store.record(did, known=True)
    except RegistryError as exc:
        return error_page(request, exc.status, "error.not_found" if exc.status == 404 else "error.title")
    return render(request, "operator_record.html", {"record": record, "quoted": quote(did, safe=":")})


ACCOUNTABILITY_ROUTES = [
    Route("/v1/disclosures", file_disclosure, methods=["POST"]),
    Route("/v1/disclosures/{disclosure_id}", get_disclosure, methods=["GET"]),
    Route("/v1/manifests", submit_manifest, methods=["POST"]),
    Route("/v1/manifests/{sha256}", get_manifest, methods=["GET"]),
    Route("/v1/authorities", authorities, methods=["GET"]),
    Route("/v1/information-requests", file_request, methods=["POST"]),
    Route("/v1/information-requests/{request_id}", get_request, methods=["GET"]),
    Route("/v1/information-requests/{request_id}/answers", answer_request, methods=["POST"]),
    Route("/v1/accountability/operators", operator_ranking, methods=["GET"]),
    Route("/v1/accountability/operators/{did}", operator_record, methods=["GET"]),
    Route("/operators", ranking_page, methods=["GET"]),
    Route("/operators/{did}", record_page, methods=["GET"]),
]


# ------------------------------------------------------------------ OpenAPI

_REF = "#/components/schemas/{model}"
_PROBLEM = {"application/problem+json": {"schema": {"$ref": _REF.format(model="Problem")}}}
_INTAKE = {
    "400": "not strict JSON",
    "409": "nonce already used, or the author's key was replaced",
    "413": "body too large",
    "422": "schema, proof (a key other than the author's: wrong-signer) or clock window",
}


def _responses(ok: str, schema: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    answers: dict[str, Any] = {ok: {"description": "OK", "content": {"application/json": {"schema": schema}}}}
    for code, description in errors.items():
        answers[code] = {"description": description, "content": _PROBLEM}
    return answers


def _post(summary: str, model: str | None, errors: dict[str, str], ok: str = "201") -> dict[str, Any]:
    body = {"$ref": _REF.format(model=model)} if model else {"type": "object"}
    return {
        "summary": summary,
        "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
        "responses": _responses(ok, {"type": "object"}, errors),
    }


def _get(summary: str, path: str | None, errors: dict[str, str], schema: str | None = None) -> dict[str, Any]:
    answer = {"$ref": _REF.format(model=schema)} if schema else {"type": "object"}
    operation: dict[str, Any] = {"summary": summary, "responses": _responses("200", answer, errors)}
    if path:
        operation["parameters"] = [
            {"name": path, "in": "path", "required": True, "schema": {"type": "string"}}
        ]
    return operation


def _query(name: str, description: str, enum: tuple[str, ...] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if enum:
        schema["enum"] = list(enum)
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


def accountability_openapi() -> tuple[dict[str, Any], dict[str, Any]]:
    """(paths, component schemas) of these endpoints, from the validating models."""
    _, top = models_json_schema(
        [(model, "validation") for model in (Disclosure, InformationRequest, InformationAnswer)]
        + [(model, "serialization") for model in (OperatorAccountabilityRecord, OperatorRanking)],
        ref_template=_REF,
    )
    at = _query("at", "judge deadlines at this RFC 3339 UTC moment instead of now")
    form = _query("format", "json (default) or csv", ("json", "csv"))
    record = _get(
        "One operator's public record from the log: identity, disclosures, notices and their timeliness, "
        "actions, rejections, counter-notices, repeat findings, information requests (csv: its notices)",
        "did",
        {
            "400": "not a DID, or a bad parameter",
            "404": "the log holds nothing about this DID as an operator",
        },
        "OperatorAccountabilityRecord",
    )
    record["parameters"] += [at, form]
    ranked = _get(
        "Every operator the log speaks of, ranked: most overdue (default) or most repeat findings",
        None,
        {"400": "a bad parameter"},
        "OperatorRanking",
    )
    ranked["parameters"] = [_query("sort", "overdue or repeats", SORTS), at, form]
    paths: dict[str, Any] = {
        "/v1/disclosures": {
            "post": _post(
                "File an operator's signed disclosure (supersedes its earlier one for the same model or "
                "service)",
                "Disclosure",
                {**_INTAKE, "403": "not-an-operator: the author has not registered as an operator"},
            )
        },
        "/v1/disclosures/{disclosure_id}": {
            "get": _get(
                "A disclosure, its supersession and its manifests' evidence", "disclosure_id", {"404": "none"}
            )
        },
        "/v1/manifests": {
            "post": _post(
                "Submit a compliance manifest: verified (signatures, and its snapshot is a checkpoint of "
                "this log) and recorded; 200 if it was recorded before",
                None,
                {
                    "400": "not strict JSON",
                    "413": "body too large",
                    "422": "invalid-manifest, or snapshot-not-in-log: the log never signed that snapshot",
                },
            )
        },
        "/v1/manifests/{sha256}": {
            "get": _get(
                "A recorded manifest, its record and the disclosures relying on it", "sha256", {"404": "none"}
            )
        },
        "/v1/authorities": {
            "get": _get("The authorities designated by the registry's administrator", None, {})
        },
        "/v1/information-requests": {
            "post": _post(
                "Send a designated authority's signed information request to an operator",
                "InformationRequest",
                {**_INTAKE, "403": "not-an-authority"},
            )
        },
        "/v1/information-requests/{request_id}": {
            "get": _get("A request, its deadline, its answers and its status", "request_id", {"404": "none"})
        },
        "/v1/information-requests/{request_id}/answers": {
            "post": {
                **_post(
                    "The addressed operator's signed answer",
                    "InformationAnswer",
                    {**_INTAKE, "403": "wrong-party: not the operator addressed", "404": "no such request"},
                ),
                "parameters": [
                    {"name": "request_id", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
            }
        },
        "/v1/accountability/operators": {"get": ranked},
        "/v1/accountability/operators/{did}": {"get": record},
    }
    return paths, top.get("$defs", {})
