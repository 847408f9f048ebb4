"""A guard for generation services: one call checks a prompt, images and embeddings against the
registry and returns the decision with the claims behind it and a signed record to keep.

>>> guard = Guard("claims.snapshot", key=keys.read_key_file("operator.key"))  # doctest: +SKIP
>>> result = guard.check(prompt="in the voice of Yamadera Kōichi", images=[png], purpose="generate")
>>> result.allowed, [m.why for m in result.matches]  # doctest: +SKIP
(False, ["the registered name 'Kōichi Yamadera' is in the prompt in the other name order …"])
>>> verify_guard_record(result.record, prompt="in the voice of Yamadera Kōichi")  # doctest: +SKIP

What is checked, per input:

* the prompt: every registered name in it (`crawler_client.guard_names`: the registry's folding
  and boundary rule — "Anna" is not in "Annapolis" — plus, with `variants`, spellings loosened
  beyond the registry's folding and the other order of two-word Latin names);
* each image (bytes or a path): its SHA-256, ISCC (Content-Code, Data-Code, Instance-Code) and PDQ
  hash with its dihedral variants, matched as the registry matches them; bytes that are no image
  are refused;
* each embedding, `(space, vector)` or `{"space": …, "vector": …}`: cosine similarity against the
  claims' thresholds in that space; an unknown space or another dimension is refused.

Offline (a `Snapshot`, or a snapshot file) the registry's own matching and deciding code runs
locally (`registry.checking.decide`), and the names through one automaton built when the guard is
made, so a prompt costs well under a millisecond with a million names (`bench/guard.py`). With a
`Client`, the same call is one `POST /v1/check`: the prompt as a `text` item (and, with `variants`,
its loosened form, so "Dvořák" in a prompt finds a registered "Dvorak"; the registry loosens no
registered name beyond its folding, nor swaps it), the images' identifiers and the embeddings.

The decision for the purpose combines every counted match as the vocabulary does (any `n`
reserves); a variant match counts as a name match. The record (`crawler_client.guard_record`)
is signed with the operator's key, or, without one, with a key made for this guard (then it proves
its integrity, not who made it).
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import keys
from crawler_client.client import Client
from crawler_client.core import minimum_authority
from crawler_client.errors import RegistryProblem
from crawler_client.guard_inputs import (
    MAX_EMBEDDINGS,
    MAX_IMAGES,
    MAX_PROMPT_CHARS,
    GuardInputError,
    Inputs,
    prepare,
    which,
)
from crawler_client.guard_names import NameFound, NameMatcher, loose_source
from crawler_client.guard_record import sign_record, timestamp
from crawler_client.snapshot import Snapshot, SnapshotRefused
from registry.checking import Hit, decide, validate_check_request
from registry.documents import InvalidDocument
from registry.index import UnknownEmbeddingSpace
from registry.schemes import TextItem
from registry.snapshot import SnapshotIndex
from registry.vocabulary import USES, Use, combine, effective_uses

__all__ = [
    "MAX_EMBEDDINGS",
    "MAX_IMAGES",
    "MAX_PROMPT_CHARS",
    "Guard",
    "GuardInputError",
    "GuardMatch",
    "GuardResult",
]

_PROMPT_ITEM: Final = TextItem(scheme="text", value="prompt")  # what `decide` echoes; dropped


@dataclass(frozen=True)
class GuardMatch:
    """One claim matching one input: who claims what, with which authority, and why it matched.

    `span` is where the prompt writes the name (offline only); `variant` says how a name matched
    other than exactly ("romanisation", "order")."""

    input: str
    index: int
    claim: str
    claimant: str
    kind: str
    authority: tuple[str, ...]
    match: str
    why: str
    uses: Mapping[str, str]
    counted: bool = True
    variant: str | None = None
    span: tuple[int, int] | None = None
    disputed: bool = False

    def to_json(self) -> dict[str, Any]:
        """The match as the record keeps it (no span: positions say little, text would say much)."""
        out: dict[str, Any] = {
            "input": self.input,
            "index": self.index,
            "claim": self.claim,
            "claimant": self.claimant,
            "kind": self.kind,
            "authority": list(self.authority),
            "match": self.match,
            "uses": dict(self.uses),
            "counted": self.counted,
            "why": self.why,
        }
        if self.variant is not None:
            out["variant"] = self.variant
        if self.disputed:
            out["disputed"] = True
        return out


@dataclass(frozen=True)
class GuardResult:
    """The decision for the purpose asked (and per use), every match, and the signed record.

    `answers` are the registry's signed check answers (with a `Client`): evidence to keep beside the
    record, which names them by id (they repeat the prompt, the record does not)."""

    purpose: str
    decision: str
    decisions: Mapping[Use, str]
    matches: tuple[GuardMatch, ...]
    inputs: tuple[Mapping[str, Any], ...]
    record: dict[str, Any]
    answers: tuple[dict[str, Any], ...] = field(default=())

    @property
    def allowed(self) -> bool:
        """False when a counted claim reserves the purpose (`n`); unknown is not a reservation."""
        return self.decision != "n"

    @property
    def claims(self) -> list[str]:
        return list(dict.fromkeys(match.claim for match in self.matches))


class Guard:
    """Checks generation inputs against a snapshot (offline) or a registry (`Client`).

    `key` signs the records (the operator's own; a key made for this guard otherwise).
    `registry_did` refuses a snapshot of another registry. `min_authority` counts only matches of
    at least that authority, as checks do. `variants=False` finds names exactly as the registry
    does and nothing more. A guard over a snapshot is safe to share between threads.
    """

    def __init__(
        self,
        source: Snapshot | Client | str | os.PathLike[str],
        *,
        key: keys.SigningKey | None = None,
        registry_did: str | None = None,
        min_authority: str | None = None,
        variants: bool = True,
    ) -> None:
        self.key = key or keys.SigningKey.generate()
        self.min_authority = minimum_authority(min_authority)
        self.variants = variants
        self._owned: Snapshot | None = None
        self._snapshot_state: dict[str, Any] | None = None
        self.client: Client | None = None
        self.snapshot: Snapshot | None = None
        if isinstance(source, Client):
            self.client = source
            return
        if isinstance(source, str | os.PathLike):
            source = self._owned = Snapshot.open(Path(source), registry=registry_did)
        if not isinstance(source, Snapshot):
            raise TypeError(f"a Guard checks against a Snapshot, a snapshot file or a Client, not {source!r}")
        if registry_did is not None and source.registry != registry_did:
            raise SnapshotRefused(f"the snapshot is of registry {source.registry}, not {registry_did}")
        self.snapshot = source
        # Content is matched by the registry's code over the snapshot's arrays; names by our automaton,
        # so the index never builds its own over a million names.
        self._content = SnapshotIndex(replace(source.data, names=[]), source.state.spaces)
        self._content_lock = threading.Lock()
        self._names = NameMatcher(source.data.names, variants=variants)

    @property
    def names(self) -> NameMatcher | None:
        """The automaton over the snapshot's names (None with a `Client`)."""
        return self._names if self.client is None else None

    def close(self) -> None:
        if self._owned is not None:
            self._owned.close()

    def __enter__(self) -> Guard:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ the call

    def check(
        self,
        *,
        prompt: str | None = None,
        images: Sequence[bytes | os.PathLike[str]] = (),
        embeddings: Sequence[tuple[str, Sequence[float]] | Mapping[str, Any]] = (),
        purpose: Use = "generate",
        territory: str | None = None,
        at: datetime | None = None,
    ) -> GuardResult:
        """Check every input for `purpose`; raises `GuardInputError` for inputs it cannot check,
        and, with a `Client`, the client's errors when the registry cannot answer."""
        if purpose not in USES:
            raise GuardInputError(f"purpose {purpose!r} is not one of {', '.join(USES)}")
        moment = at or datetime.now(UTC)
        if moment.tzinfo is None:
            raise GuardInputError("at must be timezone-aware")
        inputs = prepare(prompt, images, embeddings)
        if territory is not None and self.client is None:  # the registry checks it online
            try:
                validate_check_request({"items": [{"scheme": "text", "value": "-"}], "territory": territory})
            except InvalidDocument as exc:
                raise GuardInputError(f"territory {territory!r}: {exc}") from None
        if self.client is not None:
            found, evidence, against = self._online(inputs, purpose, territory, moment)
        else:
            found, evidence, against = self._offline(inputs, purpose, territory, moment), (), self._against()
        return self._result(inputs, found, evidence, against, purpose, territory, moment)

    # ------------------------------------------------------------ offline

    def _against(self) -> dict[str, Any]:
        """The registry state checked against: the snapshot's checkpoint and the note signing it."""
        if self._snapshot_state is None:
            assert self.snapshot is not None
            state = self.snapshot.state
            self._snapshot_state = {
                "registry": state.registry,
                "checkpoint": self.snapshot.checkpoint_summary(),
                "checkpoint_note": state.checkpoint,
                "snapshot_state": keys.document_id(state.document),
            }
        return self._snapshot_state

    def _offline(
        self, inputs: Inputs, purpose: Use, territory: str | None, moment: datetime
    ) -> list[tuple[str, int, list[dict[str, Any]]]]:
        """Per input (kind, index), its matches as `decide` gives them (name matches with `found`)."""
        options: dict[str, Any] = {"at": moment, "purpose": purpose, "territory": territory}
        options["min_authority"] = self.min_authority
        out: list[tuple[str, int, list[dict[str, Any]]]] = []
        if inputs.prompt is not None:
            names = sorted(self._names.find(inputs.prompt), key=lambda f: (f.variant is not None, f.start))
            matches: list[dict[str, Any]] = []
            if names:
                view = self._content.view
                answer = decide(
                    _PROMPT_ITEM, [Hit(view(f.ordinal), "name", f.name) for f in names], **options
                )
                first: dict[str, NameFound] = {}
                for name in names:
                    first.setdefault(view(name.ordinal).id, name)
                matches = answer["matches"]
                for match in matches:
                    match["found"] = first[match["claim"]]
            out.append(("prompt", 0, matches))
        items = self._validated(inputs)
        with self._content_lock:
            for number, identifiers in enumerate(inputs.images):
                typed = items[: len(identifiers)]
                items = items[len(identifiers) :]
                hits = [hit for item in typed for hit in self._content.match(item)]
                out.append(("image", number, decide(typed[0], hits, **options)["matches"]))
            for number, item in enumerate(items):
                out.append(
                    ("embedding", number, decide(item, self._content.match(item), **options)["matches"])
                )
        assert self.snapshot is not None
        for _, _, matches in out:
            for match in matches:
                if match["claim"] in self.snapshot.disputed:
                    match["disputed"] = True
        return out

    def _validated(self, inputs: Inputs) -> list[Any]:
        """The images' identifiers and the embeddings as typed check items, refused as the registry would."""
        raw = [item for identifiers in inputs.images for item in identifiers] + inputs.embeddings
        owners = [("image", n) for n, identifiers in enumerate(inputs.images) for _ in identifiers]
        owners += [("embedding", n) for n in range(len(inputs.embeddings))]
        if not raw:
            return []
        try:
            items = list(validate_check_request({"items": raw}).items)
            for position, item in enumerate(items):
                try:
                    self._content.check_query(item)
                except UnknownEmbeddingSpace as exc:
                    raise InvalidDocument([(f"/items/{position}", str(exc))]) from None
        except InvalidDocument as exc:
            raise GuardInputError(which(str(exc), owners)) from None
        return items

    # ------------------------------------------------------------ online

    def _online(
        self, inputs: Inputs, purpose: Use, territory: str | None, moment: datetime
    ) -> tuple[list[tuple[str, int, list[dict[str, Any]]]], tuple[dict[str, Any], ...], dict[str, Any]]:
        assert self.client is not None
        items: list[dict[str, Any]] = []
        owners: list[tuple[str, int, str | None]] = []
        if inputs.prompt is not None:
            items.append({"scheme": "text", "value": inputs.prompt})
            owners.append(("prompt", 0, None))
            loose = loose_source(inputs.prompt) if self.variants else None
            if loose is not None and loose.changed:
                items.append({"scheme": "text", "value": loose.text})
                owners.append(("prompt", 0, "romanisation"))
        for number, identifiers in enumerate(inputs.images):
            items += identifiers
            owners += [("image", number, None)] * len(identifiers)
        for number, embedding in enumerate(inputs.embeddings):
            items.append(embedding)
            owners.append(("embedding", number, None))
        try:
            result = self.client.check(
                items,
                purpose=purpose,
                territory=territory,
                at=timestamp(moment),
                min_authority=self.min_authority,
            )
        except RegistryProblem as exc:
            if 400 <= exc.status < 500 and exc.status not in (401, 403, 404, 408, 409, 429):
                raise GuardInputError(which(str(exc), [(k, n) for k, n, _ in owners])) from None
            raise
        grouped: dict[tuple[str, int], dict[str, dict[str, Any]]] = {}
        places = list(dict.fromkeys((kind, number) for kind, number, _ in owners))
        for place in places:
            grouped.setdefault(place, {})
        for (kind, number, variant), answered in zip(owners, result.items, strict=True):
            best = grouped[(kind, number)]
            for match in answered["matches"]:
                if match["claim"] not in best:
                    best[match["claim"]] = {**match, "variant": variant} if variant else match
        answers = tuple(result.answers)
        against = {
            "registry": str(answers[-1]["registry"]),
            "checkpoint": answers[-1]["checkpoint"],
            "answers": [keys.document_id(answer) for answer in answers],
        }
        return (
            [(kind, number, list(grouped[(kind, number)].values())) for kind, number in places],
            answers,
            against,
        )

    # ------------------------------------------------------------ the result

    def _result(
        self,
        inputs: Inputs,
        found: list[tuple[str, int, list[dict[str, Any]]]],
        evidence: tuple[dict[str, Any], ...],
        against: dict[str, Any],
        purpose: Use,
        territory: str | None,
        moment: datetime,
    ) -> GuardResult:
        matches: list[GuardMatch] = []
        described = []
        every: list[Mapping[Use, str]] = []
        for (kind, number, answered), entry in zip(found, inputs.described, strict=True):
            counted: list[Mapping[Use, str]] = []
            for match in answered:
                guard_match = _guard_match(kind, number, match, purpose)
                matches.append(guard_match)
                if guard_match.counted:
                    counted.append(_effective(guard_match.uses))
            every += counted
            described.append({**entry, "decision": combine(uses[purpose] for uses in counted)})
        decisions: dict[Use, str] = {use: combine(uses[use] for uses in every) for use in USES}
        body: dict[str, Any] = {**against, "purpose": purpose}
        if territory is not None:
            body["territory"] = territory
        if self.min_authority is not None:
            body["min_authority"] = self.min_authority
        body |= {
            "variants": self.variants,
            "checked_at": timestamp(moment),
            "inputs": described,
            "decision": decisions[purpose],
            "decisions": decisions,
            "matches": [match.to_json() for match in matches],
        }
        record = sign_record(body, self.key, moment)
        return GuardResult(
            purpose, decisions[purpose], decisions, tuple(matches), tuple(described), record, evidence
        )


# ---------------------------------------------------------------- why


def _effective(uses: Mapping[str, str]) -> Mapping[Use, str]:
    """`effective_uses`, once per distinct statement (a prompt may match a hundred claims that say
    the same thing)."""
    return _effective_of(tuple(sorted(uses.items())))


@functools.lru_cache(maxsize=1024)
def _effective_of(uses: tuple[tuple[str, str], ...]) -> Mapping[Use, str]:
    return MappingProxyType(effective_uses(dict(uses)))


def _guard_match(kind: str, number: int, match: dict[str, Any], purpose: Use) -> GuardMatch:
    found: NameFound | None = match.get("found")
    variant = found.variant if found is not None else match.get("variant")
    span = (found.start, found.end) if found is not None else None
    counted = bool(match.get("counted", True))
    uses = dict(match["uses"])
    why = _describe(match, variant, span)
    verb = {"n": "reserves", "y": "allows"}.get(_effective(uses)[purpose], "says nothing about")
    why += f"; the claim {verb} {purpose}"
    if not counted:
        why += f" but is {', '.join(match['authority'])}, below the minimum authority: not counted"
    return GuardMatch(
        input=kind,
        index=number,
        claim=str(match["claim"]),
        claimant=str(match["claimant"]),
        kind=str(match["kind"]),
        authority=tuple(match["authority"]),
        match=str(match["match"]),
        why=why,
        uses=uses,
        counted=counted,
        variant=variant,
        span=span,
        disputed=bool(match.get("disputed")),
    )


def _describe(match: dict[str, Any], variant: str | None, span: tuple[int, int] | None) -> str:
    scheme, key = str(match["match"]), match.get("key")
    distance, similarity = match.get("distance"), match.get("similarity")
    if scheme == "name":
        how = {"romanisation": " as a romanisation variant", "order": " in the other name order"}
        where = f" (characters {span[0]}–{span[1]})" if span else ""
        return f"the registered name {key!r} is in the prompt{how.get(variant or '', '')}{where}"
    if scheme == "sha256":
        return "the image is the claim's file (SHA-256)"
    if scheme == "pdq":
        return f"the image's PDQ hash is within Hamming distance {distance} of 256 of the claim's"
    if scheme == "iscc-instance":
        return "the image's ISCC Instance-Code is the claim's"
    if scheme.startswith("iscc-"):
        return (
            f"the image's ISCC {scheme[5:]} unit is within Hamming distance {distance} of 64 of the claim's"
        )
    if scheme == "embedding":
        return f"the embedding is at cosine similarity {similarity:.3f} to the claim's in {key} (≥ threshold)"
    return f"{scheme} {key}"
