"""C2SP tlog-cosignature v1, pinned to the spec's examples and to transparency-dev/formats' vectors.

Sources (each value below says where it is from):
- C2SP/C2SP `tlog-cosignature.md`, `tlog-checkpoint.md` (commit 5ba5ee83): the example checkpoint,
  its example cosignature line and the example signed message. The example keys are not published,
  so the example signatures cannot be verified; the timestamp and key ID they carry can.
- transparency-dev/formats `note/note_cosigv1_test.go` (commit 0b850f1a, Apache-2.0): the
  `remora.n621.de` 0x04 verifier key (a public witness's real key) and the CoSigV1Timestamp vectors.

No published cosignature exists under a published key (the reference implementations' tests sign
with fresh keys at the current time), so signature bytes are pinned by the spec's message bytes,
the RFC 8032 key, and one regression vector of our own, marked as such.
"""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from keys.cosignature import (
    ALG_COSIGNATURE_V1,
    MAX_TIMESTAMP,
    CosignatureSigner,
    CosignatureVerifier,
    InvalidCosignature,
    NotEnoughCosignatures,
    cosign,
    cosignature_key_id,
    cosignature_message,
    cosignature_timestamp,
    cosignature_verifier_key,
    parse_cosignature_verifier_key,
    verify_cosignature,
    verify_cosigned,
)
from keys.note import (
    Checkpoint,
    InvalidCheckpoint,
    InvalidNote,
    InvalidNoteKey,
    NoteSigner,
    NoteVerifier,
    key_id,
    open_note,
    parse_verifier_key,
    sign_note,
)

# ----------------------------------------------------------------------------- published vectors

# tlog-cosignature.md / tlog-checkpoint.md: the example checkpoint and its cosignature line.
SOFA_TEXT = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
SOFA_LOG_LINE = (
    "— example.com/behind-the-sofa "
    "Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
)
SOFA_WITNESS_LINE = (
    "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZ"
    "qhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
)
# tlog-cosignature.md, "Ed25519 signed message": the example message, byte for byte.
SOFA_MESSAGE = (
    b"cosignature/v1\n"
    b"time 1679315147\n"
    b"example.com/behind-the-sofa\n"
    b"20852163\n"
    b"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
)

# transparency-dev/formats note_cosigv1_test.go, TestCoSigV1NewVerifier "works: native
# algEd25519CosignatureV1 verifier" (a real witness key) and "works: convert from algEd25519".
REMORA_VKEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"
TEST_NOTE_VKEY = "TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6"
# ... TestCoSigV1Timestamp: "works" and "wrong type of signature" (a plain 0x01 note signature).
FORMATS_COSIG_B64 = (
    "ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWWOworDcFiEBYJXORmnFBOBA=="
)
FORMATS_COSIG_TIME = 1727964367
FORMATS_NOTE_SIG_B64 = (
    "eQjRQm6eSKzFoiYalgwCPXu2y3ijtg68is9M46JKxuZB+dRfTmeQeDBoXnvxZx2ugnkyV+MUMLXpWs1hPb/W/4xkNQY="
)

# RFC 8032 §7.1 TEST 1 secret key (tests/keys/vectors/rfc8032-ed25519.json).
RFC8032_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")

# Our own output, not an independent vector: witness.example/w1 with the RFC 8032 TEST 1 key
# cosigning the spec's example checkpoint at the spec's example time. It pins the bytes so a change
# to the message or line format cannot pass unnoticed; SOFA_MESSAGE above is what pins it to the spec.
OUR_VKEY = "witness.example/w1+eb762cc2+BNdamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea"
OUR_LINE = (
    "— witness.example/w1 63YswgAAAABkGFDL+TPmh4BYuAjsYRoqMJCWb/gWJaeRF/kmm5tlCr9sJ57DLErur7K0yDXc2ArN"
    "+TIuotuB/HbuL3AJsp3bv/aNCQ==\n"
)


@pytest.fixture
def witness() -> CosignatureSigner:
    return CosignatureSigner("witness.example/w1", Ed25519PrivateKey.from_private_bytes(RFC8032_SEED))


@pytest.fixture
def log() -> NoteSigner:
    return NoteSigner("example.com/behind-the-sofa", Ed25519PrivateKey.generate())


def _witnesses(count: int) -> list[CosignatureSigner]:
    return [CosignatureSigner(f"witness.example/w{i}", Ed25519PrivateKey.generate()) for i in range(count)]


# ----------------------------------------------------------------------------- against the vectors


def test_signed_message_is_the_spec_example_byte_for_byte() -> None:
    assert cosignature_message(SOFA_TEXT, 1679315147) == SOFA_MESSAGE


def test_spec_example_cosignature_carries_the_spec_example_time() -> None:
    assert cosignature_timestamp(SOFA_WITNESS_LINE) == 1679315147
    payload = base64.b64decode(SOFA_WITNESS_LINE.split()[-1])
    assert len(payload) == 4 + 8 + 64


def test_formats_timestamp_vectors() -> None:
    assert cosignature_timestamp(f"— example {FORMATS_COSIG_B64}\n") == FORMATS_COSIG_TIME
    with pytest.raises(InvalidCosignature):
        cosignature_timestamp(f"— example {FORMATS_NOTE_SIG_B64}\n")  # 4 + 64 bytes: not a cosignature
    with pytest.raises(InvalidCosignature):
        cosignature_timestamp("— example 5%/$!\n")


def test_published_witness_key_parses_and_its_key_id_is_derived_with_type_0x04() -> None:
    verifier = parse_cosignature_verifier_key(REMORA_VKEY)
    assert verifier.name == "remora.n621.de"
    assert verifier.key_id == 0xDA77ADE7
    raw = base64.b64decode(REMORA_VKEY.split("+")[2])
    assert raw[0] == ALG_COSIGNATURE_V1
    assert hashlib.sha256(b"remora.n621.de\n" + raw).digest()[:4] == bytes.fromhex("da77ade7")
    assert verifier.verifier_key == REMORA_VKEY
    assert cosignature_verifier_key(verifier.name, verifier.public_key) == REMORA_VKEY


def test_a_plain_note_key_is_not_a_cosignature_key() -> None:
    # formats accepts a 0x01 vkey and converts it; we refuse it, so a log key cannot be taken for a witness.
    note_key = parse_verifier_key(TEST_NOTE_VKEY)
    with pytest.raises(InvalidNoteKey, match="0x01"):
        parse_cosignature_verifier_key(TEST_NOTE_VKEY)
    converted = CosignatureVerifier(note_key.name, note_key.public_key)
    assert converted.key_id == cosignature_key_id("TEST", note_key.public_key) != note_key.key_id
    assert parse_cosignature_verifier_key(converted.verifier_key) == converted


def test_regression_vector(witness: CosignatureSigner) -> None:
    assert witness.verifier_key == OUR_VKEY
    assert cosign(SOFA_TEXT, witness, 1679315147) == OUR_LINE
    assert verify_cosignature(SOFA_TEXT + "\n" + SOFA_LOG_LINE + OUR_LINE, witness.verifier) == 1679315147


def test_spec_example_note_parses_with_both_lines_unverified() -> None:
    # Neither example key is published: a verifier for another key finds nothing of its own.
    note = SOFA_TEXT + "\n" + SOFA_LOG_LINE + SOFA_WITNESS_LINE
    with pytest.raises(InvalidCosignature, match="no valid cosignature"):
        verify_cosignature(note, parse_cosignature_verifier_key(REMORA_VKEY))


# ----------------------------------------------------------------------------- keys and lines


def test_key_id_is_sha256_of_name_newline_0x04_key(witness: CosignatureSigner) -> None:
    public = witness.private_key.public_key().public_bytes_raw()
    expected = hashlib.sha256(b"witness.example/w1\n\x04" + public).digest()[:4]
    assert witness.key_id == int.from_bytes(expected, "big")
    assert witness.key_id != key_id(witness.name, witness.private_key.public_key())


def test_signature_line_is_keyid_timestamp_signature(witness: CosignatureSigner) -> None:
    line = cosign(SOFA_TEXT, witness, 1679315147)
    assert line.startswith("— witness.example/w1 ") and line.endswith("\n")
    payload = base64.b64decode(line.split()[-1])
    assert payload[:4] == witness.key_id.to_bytes(4, "big")
    assert int.from_bytes(payload[4:12], "big") == 1679315147
    witness.private_key.public_key().verify(payload[12:], SOFA_MESSAGE)


def test_verifier_key_round_trips(witness: CosignatureSigner) -> None:
    assert parse_cosignature_verifier_key(witness.verifier_key) == witness.verifier


@pytest.mark.parametrize(
    "bad",
    [
        "remora.n621.de+da77ade8+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2",  # wrong key ID
        "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw",  # truncated
        "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2AA==",  # too long
        "remora.n621.de+da77ade7",
        "remora n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2",  # space in the name
        "remora.n621.de+da77adeg+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2",
        "remora.n621.de+da77ade7+BOvN63jn_bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2",  # not standard base64
        "",
    ],
)
def test_malformed_verifier_keys_are_refused(bad: str) -> None:
    with pytest.raises(InvalidNoteKey):
        parse_cosignature_verifier_key(bad)


def test_verifier_key_must_be_a_str() -> None:
    with pytest.raises(TypeError):
        parse_cosignature_verifier_key(b"x")  # type: ignore[arg-type]


@pytest.mark.parametrize("timestamp", [0, -1, MAX_TIMESTAMP + 1])
def test_timestamps_outside_1_to_2_63_minus_1_are_refused(witness: CosignatureSigner, timestamp: int) -> None:
    with pytest.raises(ValueError, match="timestamp"):
        cosign(SOFA_TEXT, witness, timestamp)


def test_timestamp_must_be_an_int(witness: CosignatureSigner) -> None:
    with pytest.raises(TypeError):
        cosign(SOFA_TEXT, witness, 1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        cosign(SOFA_TEXT, witness, True)


def test_largest_timestamp_is_allowed(witness: CosignatureSigner, log: NoteSigner) -> None:
    note = sign_note(SOFA_TEXT, [log]) + cosign(SOFA_TEXT, witness, MAX_TIMESTAMP)
    assert verify_cosignature(note, witness.verifier) == MAX_TIMESTAMP


@pytest.mark.parametrize(
    "text",
    [
        SOFA_TEXT + "\n" + SOFA_LOG_LINE,  # a signed note, not its text
        "example.com/log\n12\n",  # two lines
        "just text\n",
        "example.com/log\n012\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
    ],
)
def test_only_checkpoint_text_is_cosigned(witness: CosignatureSigner, text: str) -> None:
    with pytest.raises(InvalidCheckpoint):
        cosign(text, witness, 1679315147)


def test_signer_refuses_other_key_types() -> None:
    with pytest.raises(TypeError):
        CosignatureSigner("w", b"\x00" * 32)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        cosign(SOFA_TEXT, NoteSigner("w", Ed25519PrivateKey.generate()), 1)  # type: ignore[arg-type]


def test_signer_hides_its_key(witness: CosignatureSigner) -> None:
    assert "private" not in repr(witness)


# ----------------------------------------------------------------------------- verify_cosignature


def test_extension_lines_are_cosigned(witness: CosignatureSigner, log: NoteSigner) -> None:
    text = Checkpoint("example.com/behind-the-sofa", 3, bytes(32), ("extension",)).to_text()
    line = cosign(text, witness, 100)
    assert verify_cosignature(sign_note(text, [log]) + line, witness.verifier) == 100
    tampered = text.replace("extension", "extensioN")
    with pytest.raises(InvalidCosignature, match="invalid cosignature"):
        verify_cosignature(sign_note(tampered, [log]) + line, witness.verifier)


@pytest.mark.parametrize("field", ["origin", "size", "root"])
def test_cosignature_does_not_move_to_another_checkpoint(
    witness: CosignatureSigner, log: NoteSigner, field: str
) -> None:
    line = cosign(SOFA_TEXT, witness, 1679315147)
    origin, size, root = SOFA_TEXT.splitlines()
    other = {
        "origin": f"example.com/other\n{size}\n{root}\n",
        "size": f"{origin}\n20852164\n{root}\n",
        "root": f"{origin}\n{size}\n{base64.b64encode(bytes(32)).decode()}\n",
    }[field]
    with pytest.raises(InvalidCosignature, match="invalid cosignature"):
        verify_cosignature(other + "\n" + line, witness.verifier)


def test_tampered_timestamp_fails(witness: CosignatureSigner) -> None:
    payload = bytearray(base64.b64decode(cosign(SOFA_TEXT, witness, 1679315147).split()[-1]))
    payload[11] ^= 1
    line = f"— {witness.name} {base64.b64encode(payload).decode()}\n"
    with pytest.raises(InvalidCosignature, match="invalid cosignature"):
        verify_cosignature(SOFA_TEXT + "\n" + line, witness.verifier)


def test_timestamp_beyond_2_63_is_invalid_even_if_signed(witness: CosignatureSigner) -> None:
    # Sign the message for 2^63 by hand: the verifier must refuse the timestamp, not the signature.
    message = b"cosignature/v1\ntime %d\n" % 2**63 + SOFA_TEXT.encode()
    payload = (
        witness.key_id.to_bytes(4, "big") + (2**63).to_bytes(8, "big") + witness.private_key.sign(message)
    )
    line = f"— {witness.name} {base64.b64encode(payload).decode()}\n"
    with pytest.raises(InvalidCosignature, match="2\\^63"):
        verify_cosignature(SOFA_TEXT + "\n" + line, witness.verifier)


def test_wrong_length_cosignature_is_invalid(witness: CosignatureSigner) -> None:
    payload = witness.key_id.to_bytes(4, "big") + bytes(64)  # a note signature's shape, no timestamp
    line = f"— {witness.name} {base64.b64encode(payload).decode()}\n"
    with pytest.raises(InvalidCosignature, match="8 \\+ 64"):
        verify_cosignature(SOFA_TEXT + "\n" + line, witness.verifier)


def test_plain_note_signature_by_the_same_key_is_no_cosignature(witness: CosignatureSigner) -> None:
    # The same key and name signing as a note key (0x01) has another key ID: ignored, so none found.
    as_note_key = NoteSigner(witness.name, witness.private_key)
    with pytest.raises(InvalidCosignature, match="no valid cosignature"):
        verify_cosignature(sign_note(SOFA_TEXT, [as_note_key]), witness.verifier)


def test_a_cosignature_cannot_pass_for_a_note_signature(witness: CosignatureSigner) -> None:
    note = SOFA_TEXT + "\n" + cosign(SOFA_TEXT, witness, 5)
    as_note_key = NoteVerifier(witness.name, witness.private_key.public_key())
    with pytest.raises(InvalidNote, match="no signature from a known key"):
        open_note(note, [as_note_key])


def test_other_witness_lines_are_ignored(witness: CosignatureSigner, log: NoteSigner) -> None:
    other = _witnesses(1)[0]
    note = sign_note(SOFA_TEXT, [log]) + cosign(SOFA_TEXT, other, 7) + cosign(SOFA_TEXT, witness, 9)
    assert verify_cosignature(note, witness.verifier) == 9
    assert verify_cosignature(note, other.verifier) == 7


def test_same_name_other_key_is_ignored(witness: CosignatureSigner) -> None:
    impostor = CosignatureSigner(witness.name, Ed25519PrivateKey.generate())
    with pytest.raises(InvalidCosignature, match="no valid cosignature"):
        verify_cosignature(SOFA_TEXT + "\n" + cosign(SOFA_TEXT, impostor, 9), witness.verifier)


def test_future_cosignature_can_be_refused(witness: CosignatureSigner) -> None:
    note = SOFA_TEXT + "\n" + cosign(SOFA_TEXT, witness, 2000)
    assert verify_cosignature(note, witness.verifier, not_after=2000) == 2000
    with pytest.raises(InvalidCosignature, match="future"):
        verify_cosignature(note, witness.verifier, not_after=1999)


def test_cosigned_text_must_be_a_checkpoint(witness: CosignatureSigner) -> None:
    text = "not a checkpoint\n"
    message = b"cosignature/v1\ntime 1\n" + text.encode()
    payload = witness.key_id.to_bytes(4, "big") + (1).to_bytes(8, "big") + witness.private_key.sign(message)
    note = text + "\n" + f"— {witness.name} {base64.b64encode(payload).decode()}\n"
    with pytest.raises(InvalidCosignature, match="not a checkpoint"):
        verify_cosignature(note, witness.verifier)


def test_verify_cosignature_wants_a_cosignature_verifier(witness: CosignatureSigner) -> None:
    with pytest.raises(TypeError):
        verify_cosignature(SOFA_TEXT, NoteVerifier("w", witness.private_key.public_key()))  # type: ignore[arg-type]


def test_bytes_notes_are_accepted(witness: CosignatureSigner) -> None:
    note = (SOFA_TEXT + "\n" + cosign(SOFA_TEXT, witness, 3)).encode()
    assert verify_cosignature(note, witness.verifier) == 3


# ----------------------------------------------------------------------------- verify_cosigned


def _cosigned(log: NoteSigner, signers: list[CosignatureSigner], text: str = SOFA_TEXT) -> str:
    return sign_note(text, [log]) + "".join(
        cosign(text, signer, 1000 + i) for i, signer in enumerate(signers)
    )


def test_k_of_n(log: NoteSigner) -> None:
    w = _witnesses(3)
    note = _cosigned(log, [w[0], w[2]])
    verifiers = [signer.verifier for signer in w]
    assert verify_cosigned(note, log.verifier, verifiers, 2) == ["witness.example/w0", "witness.example/w2"]
    assert verify_cosigned(note, log.verifier, verifiers, 0) == ["witness.example/w0", "witness.example/w2"]
    with pytest.raises(NotEnoughCosignatures) as caught:
        verify_cosigned(note, log.verifier, verifiers, 3)
    assert caught.value.cosigned == ["witness.example/w0", "witness.example/w2"]
    assert caught.value.required == 3
    assert "2 of the required 3" in str(caught.value)


def test_untrusted_cosignatures_do_not_count(log: NoteSigner) -> None:
    trusted, stranger = _witnesses(2)
    note = _cosigned(log, [stranger])
    with pytest.raises(NotEnoughCosignatures):
        verify_cosigned(note, log.verifier, [trusted.verifier], 1)


def test_log_signature_is_required(log: NoteSigner) -> None:
    (w,) = _witnesses(1)
    only_cosigned = SOFA_TEXT + "\n" + cosign(SOFA_TEXT, w, 5)
    with pytest.raises(InvalidNote, match="not signed by the log"):
        verify_cosigned(only_cosigned, log.verifier, [w.verifier], 1)
    other_log = NoteSigner(log.name, Ed25519PrivateKey.generate())
    with pytest.raises(InvalidNote):
        verify_cosigned(_cosigned(other_log, [w]), log.verifier, [w.verifier], 1)


def test_bad_log_signature_rejects_the_note(log: NoteSigner) -> None:
    (w,) = _witnesses(1)
    note = _cosigned(log, [w])
    forged = note.replace(SOFA_TEXT, SOFA_TEXT.replace("20852163", "20852164"), 1)
    with pytest.raises(InvalidNote):
        verify_cosigned(forged, log.verifier, [w.verifier], 0)


def test_a_bad_line_from_a_trusted_witness_rejects_the_whole_note(log: NoteSigner) -> None:
    good, bad = _witnesses(2)
    other_text = SOFA_TEXT.replace("20852163", "20852170")
    note = sign_note(SOFA_TEXT, [log]) + cosign(SOFA_TEXT, good, 1) + cosign(other_text, bad, 2)
    with pytest.raises(InvalidCosignature, match=r"invalid cosignature from witness\.example/w1"):
        verify_cosigned(note, log.verifier, [good.verifier, bad.verifier], 1)


def test_a_witness_counts_once(log: NoteSigner) -> None:
    w = _witnesses(1)[0]
    rotated = CosignatureSigner(w.name, Ed25519PrivateKey.generate())
    note = _cosigned(log, [w, rotated])
    assert verify_cosigned(note, log.verifier, [w.verifier, rotated.verifier], 1) == [w.name]
    with pytest.raises(ValueError, match="0 to 1"):
        verify_cosigned(note, log.verifier, [w.verifier, rotated.verifier], 2)


def test_a_policy_that_can_never_be_met_is_an_error(log: NoteSigner) -> None:
    w = _witnesses(2)
    note = _cosigned(log, w)
    with pytest.raises(ValueError):
        verify_cosigned(note, log.verifier, [s.verifier for s in w], 3)
    with pytest.raises(ValueError):
        verify_cosigned(note, log.verifier, [s.verifier for s in w], -1)
    with pytest.raises(TypeError):
        verify_cosigned(note, log.verifier, [s.verifier for s in w], True)


def test_a_witness_key_cannot_stand_in_for_the_log_key(log: NoteSigner) -> None:
    (w,) = _witnesses(1)
    note = SOFA_TEXT + "\n" + cosign(SOFA_TEXT, w, 5)
    with pytest.raises(TypeError, match="log_verifier"):
        verify_cosigned(note, w.verifier, [w.verifier], 1)
    with pytest.raises(TypeError):
        verify_cosigned(note, log.verifier, [log.verifier], 1)  # type: ignore[list-item]


def test_future_cosignatures_can_be_refused_in_a_policy(log: NoteSigner) -> None:
    w = _witnesses(1)
    note = _cosigned(log, w)  # timestamp 1000
    assert verify_cosigned(note, log.verifier, [w[0].verifier], 1, not_after=1000) == [w[0].name]
    with pytest.raises(InvalidCosignature, match="future"):
        verify_cosigned(note, log.verifier, [w[0].verifier], 1, not_after=999)


def test_the_signed_note_must_be_a_checkpoint(log: NoteSigner) -> None:
    note = sign_note("hello\n", [log])
    with pytest.raises(InvalidNote, match="not a checkpoint"):
        verify_cosigned(note, log.verifier, [], 0)
