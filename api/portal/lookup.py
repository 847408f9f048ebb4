"""Looking claims up: what a search box means (every identifier kind the registry matches, guessed
from the text's shape when the kind is "automatic"), the answer for every use at once, and the
claim page with its authority and inclusion proof. A file dropped on the page arrives as its SHA-256
and, for an image, the PDQ hash the browser computed (api/static/js/pdq.js): both are checked, and
similar images' claims are shown with their distance."""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from api.i18n import translate
from api.portal.rendering import error_page, page_lang, registry_state, render
from api.state import RegistryState
from keys import merkle
from registry import content_ids
from registry.authority.levels import ClaimAuthority, UnknownLevel
from registry.documents import Claim
from registry.errors import RegistryError
from registry.identifiers import InvalidIdentifier
from registry.index import PDQ_RADIUS
from registry.models import LogEntry
from registry.schemes import exact_keys
from registry.vocabulary import USES, combine

LOOKUP_SCHEMES = ("auto", "url", "name", "isni", "wikidata", "sha256", "iscc", "claim")
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_MAX_QUERY = 2048
_BASE32_BODY = re.compile(r"[A-Z2-7]{16,}")
_ISNI_SHAPE = re.compile(r"(?i)(isni[: ]?\s*)?[0-9]{4}([ -]?[0-9]{4}){2}[ -]?[0-9]{3}[0-9X]")
_DOMAIN_LIKE = re.compile(r"(?i)(www\.)?[\w-]+(\.[\w-]+)*\.[a-z]{2,}(:[0-9]{1,5})?([/?#].*)?")
_QUALITY = re.compile(r"[0-9]{1,3}")
_MAX_VARIANTS = 7


def detect_scheme(text: str) -> str:
    """The identifier kind a search text has the shape of: `sha256` for 64 hex digits (which may
    also be a claim or notice id: the page tries the ids first), `iscc`, `wikidata` (Q-ids and
    wikidata.org URLs), `isni`, `url`, else `name`.

    >>> [detect_scheme(t) for t in ("ISCC:GAAXL2XYM5BQIAZ3", "Q42", "0000 0001 2103 2683")]
    ['iscc', 'wikidata', 'isni']
    >>> [detect_scheme(t) for t in ("https://a.example/x", "a.example/x", "e" * 64, "山田 花子")]
    ['url', 'url', 'sha256', 'name']
    """
    text = text.strip()
    if _HEX64.fullmatch(text):
        return "sha256"
    if text.upper().startswith("ISCC:") or _BASE32_BODY.fullmatch(text):
        try:
            content_ids.normalize_iscc(text)
            return "iscc"
        except (InvalidIdentifier, ValueError):
            if text.upper().startswith("ISCC:"):
                return "iscc"  # say what is wrong with it, rather than search it as a name
    try:
        content_ids.normalize_wikidata(text)
        return "wikidata"
    except (InvalidIdentifier, ValueError):
        pass
    if _ISNI_SHAPE.fullmatch(text) or re.match(r"(?i)https?://(www\.)?isni\.org/", text):
        return "isni"
    if re.match(r"(?i)https?://", text) or _DOMAIN_LIKE.fullmatch(text):
        return "url"
    return "name"


def lookup_item(scheme: str, query: str) -> dict[str, str] | None:
    """The check item a search box means; `auto` guesses from the text's shape. None: a claim id.

    In `auto`, 64 hex digits come back as a `sha256` item: the page first looks for a claim or
    notice with that id, and only then checks the digits as a file's hash."""
    text = query.strip()
    if scheme == "claim":
        return None
    if scheme == "auto":
        scheme = detect_scheme(text)
    if scheme == "sha256":
        text = text.lower()
    return {"scheme": scheme, "value": text}


@dataclass(frozen=True)
class FilePdq:
    """What the page computed of a dropped image's PDQ: its quality and, when the quality is high
    enough to be worth matching, the check item (hash and dihedral variants). The image itself never
    reaches the server; a flat image's hash is not even sent, only its quality, so the page can say
    why it was not looked up by similarity."""

    quality: int
    item: dict[str, Any] | None


def file_pdq(params: Mapping[str, str]) -> FilePdq | None:
    """The PDQ part of a dropped file's lookup address (`pdq`, `pdq_quality`, `pdq_variants`), or
    None when it has none (a file the browser could not decode as an image). InvalidIdentifier for
    values the page never sends: a malformed hash, a quality outside 0-100, a hash whose quality is
    below `PDQ_MIN_QUALITY`, a quality high enough but no hash, more than 7 variants.

    >>> file_pdq({"pdq_quality": "12"})
    FilePdq(quality=12, item=None)
    >>> file_pdq({"pdq": "F" * 64, "pdq_quality": "90"}).item["value"] == "f" * 64
    True
    """
    raw_quality, value, variants = (params.get(name) for name in ("pdq_quality", "pdq", "pdq_variants"))
    if raw_quality is None and value is None and variants is None:
        return None
    if raw_quality is None or not _QUALITY.fullmatch(raw_quality) or int(raw_quality) > 100:
        raise InvalidIdentifier("PDQ quality is an integer from 0 to 100")
    quality = int(raw_quality)
    if value is None:
        if variants is not None or quality >= content_ids.PDQ_MIN_QUALITY:
            raise InvalidIdentifier("a PDQ quality of 50 or more comes with its hash")
        return FilePdq(quality, None)
    content_ids.check_pdq_quality(quality)
    others = variants.split(",") if variants else []
    if len(others) > _MAX_VARIANTS:
        raise InvalidIdentifier("a PDQ hash has at most 7 dihedral variants")
    item: dict[str, Any] = {"scheme": "pdq", "value": content_ids.normalize_pdq(value), "quality": quality}
    if others:
        item["variants"] = [content_ids.normalize_pdq(other) for other in others]
    return FilePdq(quality, item)


def _problem_key(scheme: str) -> str:
    return {
        "url": "err.url",
        "isni": "err.isni",
        "wikidata": "err.wikidata",
        "sha256": "err.sha256",
        "name": "err.name",
        "claim": "err.claim_id",
    }.get(scheme, "err.invalid")


async def lookup_page(request: Request) -> Response:
    state = registry_state(request)
    lang = page_lang(request)
    query = request.query_params.get("q", "")[:_MAX_QUERY]
    scheme = request.query_params.get("scheme", "auto")
    if scheme not in LOOKUP_SCHEMES:
        scheme = "auto"
    context: dict[str, Any] = {
        "q": query,
        "scheme": scheme,
        "schemes": LOOKUP_SCHEMES,
        "searched": False,
        "uses": USES,
        "pdq_min_quality": content_ids.PDQ_MIN_QUALITY,
    }
    text = query.strip()
    if not text:
        return render(request, "lookup.html", context)
    context["searched"] = True
    item = lookup_item(scheme, text)
    if item is None or (scheme == "auto" and _HEX64.fullmatch(text)):
        found = await _find_by_id(state, text.lower())
        if found is not None:
            return RedirectResponse(found, status_code=303)
        if item is None:
            context["error"] = translate(lang, "lookup.unknown_id")
            return render(request, "lookup.html", context)
    assert item is not None
    context["searched_as"] = item["scheme"]
    items = [item]
    if item["scheme"] == "sha256":  # a dropped file: its image's PDQ too, if the page computed one
        try:
            context["pdq"] = pdq = file_pdq(request.query_params)
        except InvalidIdentifier as exc:
            context["error"] = translate(lang, "lookup.pdq_invalid")
            context["problems"] = [str(exc)]
            return render(request, "lookup.html", context)
        if pdq is not None and pdq.item is not None:
            items.append(pdq.item)
    try:
        answer = await state.claims.check({"purpose": "train-ai", "items": items})
    except RegistryError as exc:
        context["error"] = translate(lang, _problem_key(item["scheme"]))
        context["problems"] = [detail for _, detail in exc.errors] or [exc.detail]
        return render(request, "lookup.html", context)
    results = answer["items"]
    context["result"] = results[0]
    context["pdq_result"] = results[1] if len(results) > 1 else None
    context["pdq_radius"] = PDQ_RADIUS
    # One headline for the file: the same file's and similar images' claims combine as any sources do.
    context["decisions"] = [
        (use, combine(result.get("decisions", {}).get(use, "unknown") for result in results)) for use in USES
    ]
    context["tree_size"] = answer["checkpoint"]["tree_size"]
    context["registry_did"] = state.key.did
    return render(request, "lookup.html", context)


async def _find_by_id(state: RegistryState, text: str) -> str | None:
    """The page of the claim, or else the notice, whose id is `text` (64 hex digits)."""
    if not _HEX64.fullmatch(text):
        return None
    try:
        await state.claims.get_claim(text)
        return f"/claims/{text}"
    except RegistryError:
        pass
    if state.notices is not None:
        try:
            await state.notices.get_notice(text)
            return f"/notices/{text}"
        except RegistryError:
            pass
    return None


async def claim_page(request: Request) -> Response:
    state = registry_state(request)
    claim_id = request.path_params["claim_id"]
    if not _HEX64.fullmatch(claim_id):
        return error_page(request, 404, "error.not_found")
    try:
        claim = await state.claims.get_claim(claim_id.lower())
    except RegistryError as exc:
        return error_page(request, exc.status, "error.not_found" if exc.status == 404 else "error.title")
    links: dict[str, Any] = {}
    if state.notices is not None:
        try:
            links = await state.notices.claim_links(claim["id"])
        except RegistryError:
            links = {}
    return render(
        request,
        "claim.html",
        {
            "claim": claim,
            "links": links,
            "proof": await inclusion_data(state, int(claim["log_index"])),
            "identifier_authority": identifier_authority(claim, state.claims.clock()),
            "registry_did": state.key.did,
        },
    )


def identifier_authority(claim: Mapping[str, Any], at: datetime) -> list[dict[str, Any]]:
    """Each identifier of a stored claim with the authority levels a match on it holds at `at`
    (the same evaluation a check answer makes), from the claim's `authority` as the store gives it.
    Empty when the store gives no authority (a withdrawn claim) or the document does not parse."""
    authority_json = claim.get("authority")
    if not isinstance(authority_json, Mapping):
        return []
    try:
        authority = ClaimAuthority.from_json(authority_json)
        document = Claim.model_validate(claim["document"])
    except (UnknownLevel, KeyError, TypeError, ValueError):
        return []
    rows = []
    for identifier, raw in zip(
        document.subject.identifiers, claim["document"]["subject"]["identifiers"], strict=True
    ):
        scheme = identifier.scheme
        value = str(raw.get("value", raw.get("space", "")))
        keys = exact_keys(identifier, query=False)
        key = keys[0].partition(":")[2] if keys and scheme != "name" else value
        levels, chain = authority.evaluate(scheme, key, at=at)
        rows.append({"scheme": scheme, "value": value, "levels": levels, "chain": chain})
    return rows


async def inclusion_data(state: RegistryState, index: int) -> dict[str, Any]:
    """What the browser needs to check that leaf `index` is in the latest checkpoint's tree.

    The page recomputes the leaf hash itself from the document it shows (RFC 8785 in JavaScript),
    so a server that showed one document but logged another would fail the check. The server also
    checks the proof (`server_verified`), so the page says something useful without JavaScript.
    """
    size = await state.log.size()
    root = await state.log.root(size)
    proof = await state.log.inclusion_proof(index, size)
    entry = await LogEntry.get(index=index)
    server_verified = True
    try:
        merkle.verify_inclusion(bytes(entry.leaf_hash), index, size, proof, root)
    except merkle.InvalidMerkleProof:
        server_verified = False
    return {
        "leaf_index": index,
        "tree_size": size,
        "root": base64.b64encode(root).decode("ascii"),
        "inclusion_proof": [base64.b64encode(node).decode("ascii") for node in proof],
        "checkpoint": state.log.checkpoint_note(size, root),
        "note_verifier_key": state.log.verifier_key,
        "server_verified": server_verified,
    }
