"""`GET /v1/claims`: find claims by claimant, name, URL, kind and status, a page at a time.

The filtering and paging are `registry.claim_queries`; this module reads the query string, answers
the page with a `next` link (also as an RFC 8288 `Link` header), and describes it in the OpenAPI.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.schemas import AuthorityGrant
from api.state import RegistryState
from registry.authority.levels import Level
from registry.claim_queries import DEFAULT_LIMIT, MAX_LIMIT, STATUSES, ClaimQueries, parse_query
from registry.vocabulary import SUBJECT_KINDS

_REF = "#/components/schemas/{model}"


def _queries(request: Request) -> ClaimQueries:
    """One `ClaimQueries` per application (it keeps the index of withdrawn claims)."""
    state: RegistryState = request.app.state.registry
    queries: ClaimQueries | None = getattr(request.app.state, "claim_queries", None)
    if queries is None or queries.store is not state.claims:
        queries = request.app.state.claim_queries = ClaimQueries(state.claims)
    return queries


async def list_claims(request: Request) -> Response:
    query = parse_query(request.query_params.multi_items())
    page = await _queries(request).page(query)
    headers = {}
    page["next"] = None
    if page["cursor"] is not None:
        params = {**query.filter.given(), "cursor": page["cursor"]}
        if query.limit != DEFAULT_LIMIT:
            params["limit"] = str(query.limit)
        page["next"] = f"{request.url.path}?{urlencode(params)}"
        headers["Link"] = f'<{page["next"]}>; rel="next"'
    return JSONResponse(page, headers=headers)


CLAIM_LIST_ROUTES = [Route("/v1/claims", list_claims, methods=["GET"])]


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ListedMatch(_Answer):
    """How the `url` or `name` filter matched the claim, with the authority of that match."""

    match: str
    key: str
    authority: list[Level]
    chain: list[AuthorityGrant] | None = None


class ListedWithdrawal(_Answer):
    id: str
    log_index: int


class ListedClaim(_Answer):
    """A claim as filed and its status at the page's tree size; `authority` is what the claim holds
    for its least-covered identifier (a check answer's match says the same for the identifier hit)."""

    id: str
    status: Literal["active", "withdrawn"]
    log_index: int
    received_at: str
    claimant: str
    kind: str
    title: str | None = None
    authority: list[Level]
    chain: list[AuthorityGrant] | None = None
    authority_notes: list[str] | None = None
    matches: list[ListedMatch] | None = None
    withdrawal: ListedWithdrawal | None = None
    document: dict[str, object]


class ClaimPage(_Answer):
    """One page, in log order, computed at `tree_size`; `next` (and `cursor`) is null on the last."""

    tree_size: int
    claims: list[ListedClaim]
    cursor: str | None
    next: str | None


def claim_list_openapi() -> tuple[dict[str, Any], dict[str, Any]]:
    """(the `get` operation of /v1/claims, component schemas), from the models above."""
    _, top = models_json_schema([(ClaimPage, "serialization")], ref_template=_REF)
    text = {"type": "string", "minLength": 1}

    def parameter(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
        return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}

    operation = {
        "summary": "Find claims by claimant, name, URL, kind and status, a page at a time (log order)",
        "parameters": [
            parameter("claimant", "the DID that signed the claims", text),
            parameter("name", "a name, matched as a check matches it", text),
            parameter("url", "a URL, matched as a check matches it (site, path prefix, page)", text),
            parameter("kind", "the subject's kind", {"type": "string", "enum": list(SUBJECT_KINDS)}),
            parameter(
                "status", "active or withdrawn (default: both)", {"type": "string", "enum": list(STATUSES)}
            ),
            parameter("cursor", "from the previous page's `cursor`, with the same filters", text),
            parameter(
                "limit",
                f"claims per page (default {DEFAULT_LIMIT})",
                {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
            ),
        ],
        "responses": {
            "200": {
                "description": "OK",
                "content": {"application/json": {"schema": {"$ref": _REF.format(model="ClaimPage")}}},
            },
            "400": {
                "description": "a bad, unknown or repeated parameter (`invalid-parameter`, naming it)",
                "content": {"application/problem+json": {"schema": {"$ref": _REF.format(model="Problem")}}},
            },
        },
    }
    return operation, top.get("$defs", {})
