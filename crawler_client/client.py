"""A synchronous client for the registry's HTTP API.

Documents are sent as their RFC 8785 canonical bytes, so what arrives is byte for byte what was
signed. Every refusal comes back as `RegistryProblem` with the registry's problem details.

>>> with Client("http://127.0.0.1:8000") as registry:  # doctest: +SKIP
...     answer = registry.check([{"scheme": "url", "value": "https://example.com/a.png"}], purpose="train-ai")
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any

import httpx

import keys
from crawler_client.errors import RegistryProblem, RegistryUnavailable, UnexpectedAnswer

USER_AGENT = "kotowari-client/0.1"


class Client:
    """One registry, one connection pool. Use as a context manager or call `close()`."""

    def __init__(
        self, registry: str, *, timeout: float = 30.0, transport: httpx.BaseTransport | None = None
    ) -> None:
        if not registry.startswith(("http://", "https://")):
            raise ValueError(f"registry must be an http(s) URL, not {registry!r}")
        self.registry = registry.rstrip("/")
        self._http = httpx.Client(
            base_url=self.registry, timeout=timeout, transport=transport, headers={"User-Agent": USER_AGENT}
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def info(self) -> dict[str, Any]:
        """The registry's identity (`did`) and limits."""
        return self.request("GET", "/v1/registry")

    def file_claim(self, document: Mapping[str, Any]) -> dict[str, Any]:
        """File a signed claim; returns the receipt (`id`, `received_at`)."""
        return self.request("POST", "/v1/claims", document=document)

    def withdraw_claim(self, claim_id: str, withdrawal: Mapping[str, Any]) -> dict[str, Any]:
        """Send the claimant's signed withdrawal of `claim_id`."""
        return self.request("POST", f"/v1/claims/{claim_id}/withdraw", document=withdrawal)

    def get_claim(self, claim_id: str) -> dict[str, Any]:
        return self.request("GET", f"/v1/claims/{claim_id}")

    def check(
        self, items: Sequence[Mapping[str, str]], *, purpose: str | None = None, territory: str | None = None
    ) -> dict[str, Any]:
        """Decide items (`{"scheme": "url", "value": …}`) against the registry's claims in force."""
        body: dict[str, Any] = {"items": [dict(item) for item in items]}
        if purpose:
            body["purpose"] = purpose
        if territory:
            body["territory"] = territory
        return self.request("POST", "/v1/check", document=body)

    def checkpoint(self) -> str:
        """The latest checkpoint, as the signed note text the registry serves."""
        response = self._send("GET", "/log/checkpoint")
        if not response.is_success:
            _answer(response)
        return response.text

    def inclusion_proof(self, leaf_hash: bytes, tree_size: int) -> tuple[int, list[bytes]]:
        """(leaf index, RFC 9162 inclusion proof) of a leaf in the tree of `tree_size`."""
        leaf = base64.b64encode(leaf_hash).decode("ascii")
        answer = self.request("GET", "/v1/log/proof/inclusion", params={"hash": leaf, "tree_size": tree_size})
        return int(answer["leaf_index"]), [base64.b64decode(node) for node in answer["inclusion_proof"]]

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        """RFC 9162 consistency proof between two tree sizes."""
        answer = self.request("GET", "/v1/log/proof/consistency", params={"first": first, "second": second})
        return [base64.b64decode(node) for node in answer["consistency_proof"]]

    def _send(
        self,
        method: str,
        path: str,
        *,
        document: Mapping[str, Any] | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> httpx.Response:
        content = keys.canonicalize(document) if document is not None else None
        headers = {"Content-Type": "application/json"} if content is not None else {}
        try:
            return self._http.request(method, path, content=content, headers=headers, params=params)
        except httpx.TimeoutException as exc:
            raise RegistryUnavailable(
                f"{self.registry} did not answer in time ({type(exc).__name__})"
            ) from exc
        except httpx.TransportError as exc:
            raise RegistryUnavailable(f"cannot reach {self.registry}: {exc}") from exc

    def request(
        self,
        method: str,
        path: str,
        *,
        document: Mapping[str, Any] | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> dict[str, Any]:
        """Send `document` (as canonical JSON) or `params`; the JSON object answered, or an error."""
        return _answer(self._send(method, path, document=document, params=params))


def _answer(response: httpx.Response) -> dict[str, Any]:
    """The JSON object of a successful answer; a refusal raises `RegistryProblem`."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.is_success and isinstance(body, dict):
        return body
    if (
        not response.is_success
        and isinstance(body, dict)
        and "application/problem+json" in response.headers.get("content-type", "")
    ):
        raise RegistryProblem(response.status_code, body)
    if not response.is_success:
        text = response.text.strip().splitlines()[0][:200] if response.text.strip() else ""
        raise UnexpectedAnswer(f"HTTP {response.status_code} from {response.request.url}: {text}")
    raise UnexpectedAnswer(f"{response.request.url} answered with something other than a JSON object")
