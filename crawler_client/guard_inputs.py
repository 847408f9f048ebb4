"""A guard's inputs, checked before anything is matched: the prompt (and its SHA-256, which is all
the record keeps of it), images fingerprinted as the registry's identifiers, embeddings as vectors.
Whatever cannot be checked raises `GuardInputError` naming the input."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np

from crawler_client.errors import KotowariError
from crawler_client.fingerprint import FingerprintError, fingerprint_image

__all__ = [
    "MAX_EMBEDDINGS",
    "MAX_IMAGES",
    "MAX_PROMPT_CHARS",
    "GuardInputError",
    "Inputs",
    "prepare",
    "which",
]

MAX_PROMPT_CHARS: Final = 10_000
"""Longest prompt checked, in characters: the registry's limit for a `text` item."""
MAX_IMAGES: Final = 16
MAX_EMBEDDINGS: Final = 16


class GuardInputError(KotowariError, ValueError):
    """An input the guard cannot check: an empty or overlong prompt, bytes that are no image, an
    embedding in an unknown space or of the wrong dimension, an unknown purpose."""


@dataclass
class Inputs:
    """The inputs of one call, validated: what to match and how the record describes them."""

    prompt: str | None = None
    images: list[list[dict[str, Any]]] = field(default_factory=list)
    embeddings: list[dict[str, Any]] = field(default_factory=list)
    described: list[dict[str, Any]] = field(default_factory=list)


def prepare(prompt: object, images: object, embeddings: object) -> Inputs:
    """Every input checked and described, or `GuardInputError` for the first that cannot be."""
    inputs = Inputs()
    if prompt is not None:
        if not isinstance(prompt, str):
            raise GuardInputError(f"the prompt is text, not {type(prompt).__name__}")
        if not prompt.strip():
            raise GuardInputError("the prompt is empty")
        if len(prompt) > MAX_PROMPT_CHARS:
            raise GuardInputError(f"the prompt is {len(prompt)} characters, over {MAX_PROMPT_CHARS}")
        try:
            digest = hashlib.sha256(prompt.encode("utf-8")).hexdigest()
        except UnicodeEncodeError:
            raise GuardInputError("the prompt is not valid Unicode text (a lone surrogate)") from None
        inputs.prompt = prompt
        inputs.described.append({"input": "prompt", "index": 0, "sha256": digest})
    for number, image in enumerate(_listed(images, "images", MAX_IMAGES)):
        identifiers = _image(image, number)
        inputs.images.append(identifiers)
        digest = next(str(item["value"]) for item in identifiers if item["scheme"] == "sha256")
        inputs.described.append({"input": "image", "index": number, "sha256": digest})
    for number, embedding in enumerate(_listed(embeddings, "embeddings", MAX_EMBEDDINGS)):
        space, vector = _embedding(embedding, number)
        inputs.embeddings.append({"scheme": "embedding", "space": space, "vector": vector})
        digest = hashlib.sha256(np.asarray(vector, dtype="<f8").tobytes()).hexdigest()
        inputs.described.append(
            {
                "input": "embedding",
                "index": number,
                "space": space,
                "dimensions": len(vector),
                "sha256": digest,
            }
        )
    if not inputs.described:
        raise GuardInputError("nothing to check: give a prompt, images or embeddings")
    return inputs


def _listed(values: object, name: str, limit: int) -> list[Any]:
    if isinstance(values, str | bytes | Mapping) or not isinstance(values, Sequence):
        raise GuardInputError(f"{name} is a list, not {type(values).__name__}")
    if len(values) > limit:
        raise GuardInputError(f"at most {limit} {name} per check, not {len(values)}")
    return list(values)


def _image(image: object, number: int) -> list[dict[str, Any]]:
    label = f"images[{number}]"
    try:
        if isinstance(image, bytes | bytearray | memoryview):
            return fingerprint_image(bytes(image), label=label)
        if isinstance(image, os.PathLike):
            try:
                data = Path(image).read_bytes()
            except OSError as exc:
                raise GuardInputError(f"{label}: cannot read {image}: {exc.strerror or exc}") from None
            return fingerprint_image(data, label=f"{label} ({image})")
    except FingerprintError as exc:
        raise GuardInputError(str(exc)) from None
    raise GuardInputError(f"{label} is image bytes or a path, not {type(image).__name__}")


def _embedding(embedding: object, number: int) -> tuple[str, list[float]]:
    label = f"embeddings[{number}]"
    if isinstance(embedding, Mapping):
        space, vector = embedding.get("space"), embedding.get("vector")
    elif isinstance(embedding, tuple) and len(embedding) == 2:
        space, vector = embedding
    else:
        raise GuardInputError(f"{label} is (space, vector) or {{'space': …, 'vector': …}}")
    if not isinstance(space, str):
        raise GuardInputError(f"{label}: the space is a name like speaker/ecapa-tdnn-voxceleb")
    try:
        array = np.asarray(vector)
    except (TypeError, ValueError):
        array = np.asarray([], dtype=object)
    if array.dtype.kind not in "iuf":  # "1.5", True, None: not numbers
        raise GuardInputError(f"{label}: the vector is a list of numbers")
    array = array.astype(np.float64)
    if array.ndim != 1 or not len(array):
        raise GuardInputError(f"{label}: the vector is a non-empty list of numbers")
    if not np.isfinite(array).all():
        raise GuardInputError(f"{label}: the vector's components must be finite numbers")
    return space, array.tolist()


def which(message: str, owners: list[tuple[str, int]]) -> str:
    """The registry's message with its item pointer (/items/N) said as the guard's input
    (`owners[N]`: the kind and index of the input item N came from)."""
    for position in range(len(owners) - 1, -1, -1):  # /items/12 before /items/1
        if f"/items/{position}" in message:
            kind, number = owners[position]
            place = "the prompt" if kind == "prompt" else f"{kind}s[{number}]"
            return f"{place}: {message}"
    return message
