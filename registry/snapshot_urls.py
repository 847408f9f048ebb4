"""The `url/keys` sections of a snapshot: every URL key in clear, beside the hashes.

The exact-key table stores only the first 8 bytes of each key's SHA-256, which a client can only
test by hashing every lookup expression of every URL in Python. With the keys themselves a dataset
filter matches whole Arrow batches with array operations (`crawler_client.url_batch`). They are
written as two array sections, not JSON, so that opening a snapshot stays a memory map:

    url/keys        uint8: the keys ("host/path[?query]", ASCII: canonical expressions escape
                    every other byte), sorted by (claim ordinal, key), joined by newlines
    url/key_claims  the ordinal of each key's claim (uint8/16/32, as the other sections)

The sections came after format version 1 shipped and are optional: a reader that does not know
them ignores them (and, merging a delta, finds the merged table different from the signed one, so
it downloads the full snapshot instead), and a snapshot with URL claims but without them reads as
`url_keys = None`, which every merge keeps (so a merged table again differs from a newer
registry's, and the client downloads a full snapshot that has them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["UrlKeys", "joined_keys", "kept_keys", "moved_keys", "read_url_keys", "url_key_sections"]

UrlKeys = list[tuple[int, str]] | None  # (claim ordinal, key); None: the file did not carry them


def url_key_sections(pairs: Sequence[tuple[int, str]], dtype: np.dtype[Any]) -> list[tuple[str, Any]]:
    """The two sections of these (ordinal, key) pairs, already in canonical order."""
    text = "\n".join(key for _, key in pairs).encode("ascii")
    return [
        ("url/keys", np.frombuffer(text, dtype=np.uint8)),
        ("url/key_claims", np.array([ordinal for ordinal, _ in pairs], dtype=dtype)),
    ]


def read_url_keys(sections: Mapping[str, Any], claims: int, *, has_urls: bool) -> UrlKeys:
    """The pairs the sections hold; `ValueError` for anything that is not one key per claim ordinal."""
    if "url/keys" not in sections:
        return None if has_urls else []
    raw, ordinals = sections["url/keys"], sections.get("url/key_claims")
    if not isinstance(raw, np.ndarray) or raw.ndim != 1 or raw.dtype != np.uint8:
        raise ValueError("url/keys: not a byte section")
    listed = raw.tobytes().decode("ascii").split("\n")  # UnicodeDecodeError is a ValueError
    if any("/" not in key for key in listed):
        raise ValueError("url/keys: a key without a path")
    if not isinstance(ordinals, np.ndarray) or ordinals.shape != (len(listed),) or ordinals.dtype.kind != "u":
        raise ValueError(f"url/key_claims: not one ordinal for each of {len(listed)} keys")
    if int(ordinals.max()) >= claims:
        raise ValueError(f"url/key_claims: ordinal {int(ordinals.max())} of {claims} claims")
    return list(zip(ordinals.tolist(), listed, strict=True))


def moved_keys(pairs: UrlKeys, remap: Sequence[int]) -> UrlKeys:
    """The pairs with ordinals renumbered (`remap[old]`), in canonical order (by ordinal, then key),
    once each."""
    return None if pairs is None else sorted({(remap[o], key) for o, key in pairs})


def kept_keys(pairs: UrlKeys, keep: npt.NDArray[np.bool_], remap: npt.NDArray[np.int64]) -> UrlKeys:
    """The pairs of the claims kept, renumbered."""
    return None if pairs is None else [(int(remap[o]), key) for o, key in pairs if keep[o]]


def joined_keys(mine: UrlKeys, added: UrlKeys, shift: int) -> UrlKeys:
    """Both lists, the added ordinals shifted past ours; unknown if either is."""
    if mine is None or added is None:
        return None
    return [*mine, *((o + shift, key) for o, key in added)]
