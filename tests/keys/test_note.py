"""C2SP signed notes and checkpoints, pinned to Go's sumdb/note vectors and C2SP's examples."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from keys.note import (
    MAX_SIGNATURES,
    Checkpoint,
    InvalidCheckpoint,
    InvalidNote,
    InvalidNoteKey,
    NoteSignature,
    NoteSigner,
    NoteVerifier,
    key_id,
    open_note,
    parse_signer_key,
    parse_verifier_key,
    sign_note,
    signer_key,
    verifier_key,
)

# ----------------------------------------------------------------------------- published vectors
# From golang.org/x/mod sumdb/note/note.go (package documentation) and note_test.go
# (TestSign, TestOpen, TestVerifierList), repository golang/mod.

PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"

TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
PETER_B64 = "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
ENOCH_B64 = "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ="
PETER_SIG = f"— PeterNeumann {PETER_B64}\n"
ENOCH_SIG = f"— EnochRoot {ENOCH_B64}\n"
SIGNED = TEXT + "\n" + PETER_SIG

# c2sp.org/signed-note: the example note (its key is not published). Its text holds a blank line.
QUASIMODO = (
    "Ognuno sta solo sul cuor della terra\n"
    "trafitto da un raggio di sole:\n"
    "\n"
    "ed è subito sera.\n"
    "\n"
    "— quasimodo.example/salvatore "
    "NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n"
)

# c2sp.org/tlog-checkpoint: the example checkpoint (its key is not published either).
SOFA_TEXT = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
SOFA = (
    SOFA_TEXT + "\n— example.com/behind-the-sofa "
    "Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
)


@pytest.fixture
def peter() -> NoteSigner:
    return parse_signer_key(PETER_SKEY)


@pytest.fixture
def peter_v() -> NoteVerifier:
    return parse_verifier_key(PETER_VKEY)


@pytest.fixture
def enoch_v() -> NoteVerifier:
    return parse_verifier_key(ENOCH_VKEY)


def _signature_line(name: str, payload: bytes) -> str:
    return f"— {name} {base64.b64encode(payload).decode()}\n"


# ----------------------------------------------------------------------------- keys


def test_go_key_pair_parses_with_its_key_id(peter: NoteSigner, peter_v: NoteVerifier) -> None:
    assert peter.name == peter_v.name == "PeterNeumann"
    assert peter.key_id == peter_v.key_id == 0xC74F20A3
    assert peter.verifier == peter_v
    assert key_id("PeterNeumann", peter_v.public_key) == 0xC74F20A3


def test_go_keys_encode_back_exactly(peter: NoteSigner, peter_v: NoteVerifier) -> None:
    assert verifier_key("PeterNeumann", peter_v.public_key) == PETER_VKEY
    assert signer_key("PeterNeumann", peter.private_key) == PETER_SKEY


def test_generated_keys_round_trip() -> None:
    private = Ed25519PrivateKey.generate()
    signer = parse_signer_key(signer_key("example.com/log", private))
    verifier = parse_verifier_key(verifier_key("example.com/log", private.public_key()))
    assert signer.verifier == verifier
    assert verifier.public_key == private.public_key()


def test_upper_case_key_id_is_accepted_as_go_does(peter_v: NoteVerifier) -> None:
    assert parse_verifier_key(PETER_VKEY.replace("c74f20a3", "C74F20A3")) == peter_v


def test_signer_repr_does_not_show_the_private_key(peter: NoteSigner) -> None:
    assert "private" not in repr(peter).lower()


def test_every_truncation_of_a_verifier_key_is_refused() -> None:
    # Go's TestNewVerifier: every proper substring is refused.
    for i in range(len(PETER_VKEY) + 1):
        for j in range(i + 1, len(PETER_VKEY) + 1):
            if (i, j) != (0, len(PETER_VKEY)):
                with pytest.raises(InvalidNoteKey):
                    parse_verifier_key(PETER_VKEY[i:j])


def test_every_mangled_character_of_a_verifier_key_is_refused() -> None:
    for i, ch in enumerate(PETER_VKEY):
        with pytest.raises(InvalidNoteKey):
            parse_verifier_key(PETER_VKEY[:i] + chr(ord(ch) + 1) + PETER_VKEY[i + 1 :])


def test_every_truncation_or_mangled_character_of_a_signer_key_is_refused() -> None:
    # Go's TestNewSigner.
    for i in range(len(PETER_SKEY) + 1):
        for j in range(i + 1, len(PETER_SKEY) + 1):
            if (i, j) != (0, len(PETER_SKEY)):
                with pytest.raises(InvalidNoteKey):
                    parse_signer_key(PETER_SKEY[i:j])
    for i, ch in enumerate(PETER_SKEY):
        with pytest.raises(InvalidNoteKey):
            parse_signer_key(PETER_SKEY[:i] + chr(ord(ch) + 1) + PETER_SKEY[i + 1 :])


@pytest.mark.parametrize(
    "key",
    [
        # Go's TestNewVerifier: wrong key length and unknown algorithm, each with a matching key hash.
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        # A verifier key offered as a signer key and the other way round.
        "PRIVATE+KEY+" + PETER_VKEY,
        # Key ID with a sign, a prefix or spaces, which int(…, 16) alone would take.
        "PeterNeumann+0xc74f20+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann++c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+ c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        # Non-canonical base64 and base64 without padding.
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TX",
        "",
        "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ],
)
def test_malformed_verifier_key_is_refused(key: str) -> None:
    with pytest.raises(InvalidNoteKey):
        parse_verifier_key(key)


@pytest.mark.parametrize(
    "name", ["", "a+b", "a b", "a\tb", "a\nb", "a\u00a0b", "a\u2028b", "a\u3000b", "a\x01b", "a\ud800b"]
)
def test_invalid_key_name_is_refused(name: str) -> None:
    private = Ed25519PrivateKey.generate()
    with pytest.raises(InvalidNoteKey):
        NoteSigner(name, private)
    with pytest.raises(InvalidNoteKey):
        NoteVerifier(name, private.public_key())
    with pytest.raises(InvalidNoteKey):
        verifier_key(name, private.public_key())


@pytest.mark.parametrize("name", ["example.com/log42", "名前", "a—b", "x"])
def test_unusual_but_valid_key_names_are_accepted(name: str) -> None:
    private = Ed25519PrivateKey.generate()
    assert parse_verifier_key(verifier_key(name, private.public_key())).name == name


# ----------------------------------------------------------------------------- signing and opening


def test_signing_reproduces_go_documentation_note(peter: NoteSigner) -> None:
    assert sign_note(TEXT, [peter]) == SIGNED


def test_go_documentation_note_opens(peter_v: NoteVerifier) -> None:
    for message in (SIGNED, SIGNED.encode()):
        note = open_note(message, [peter_v])
        assert note.text == TEXT
        assert note.signatures == (
            NoteSignature("PeterNeumann", 0xC74F20A3, base64.b64decode(PETER_B64)[4:]),
        )
        assert note.unverified_signatures == ()
        assert note.signatures[0].to_line() == PETER_SIG


def test_signature_from_unknown_key_is_kept_unverified(peter_v: NoteVerifier) -> None:
    # Go's TestOpen: one signature verified, one not.
    note = open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [peter_v])
    assert [s.to_line() for s in note.signatures] == [PETER_SIG]
    assert [s.to_line() for s in note.unverified_signatures] == [ENOCH_SIG]


def test_go_cosigned_note_verifies_both_signatures(peter_v: NoteVerifier, enoch_v: NoteVerifier) -> None:
    note = open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [peter_v, enoch_v])
    assert [(s.name, s.key_id) for s in note.signatures] == [
        ("PeterNeumann", 0xC74F20A3),
        ("EnochRoot", 0xAF0CFE78),
    ]
    assert note.unverified_signatures == ()


def test_note_signed_only_by_unknown_keys_is_refused(peter_v: NoteVerifier, enoch_v: NoteVerifier) -> None:
    with pytest.raises(InvalidNote, match="no signature from a known key"):
        open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [])
    with pytest.raises(InvalidNote, match="no signature from a known key"):
        open_note(SIGNED, [enoch_v])


def test_same_name_with_another_key_is_an_unknown_key() -> None:
    impostor = NoteVerifier("PeterNeumann", Ed25519PrivateKey.generate().public_key())
    with pytest.raises(InvalidNote, match="no signature from a known key"):
        open_note(SIGNED, [impostor])


def test_same_key_under_another_name_is_an_unknown_key(peter_v: NoteVerifier) -> None:
    renamed = NoteVerifier("CarmenSandiego", peter_v.public_key)
    with pytest.raises(InvalidNote, match="no signature from a known key"):
        open_note(SIGNED, [renamed])
    # Go's misnamedSig: the name swapped in the signature line.
    with pytest.raises(InvalidNote):
        open_note(SIGNED.replace("PeterNeumann", "CarmenSandiego"), [renamed])


def test_tampered_text_is_refused(peter_v: NoteVerifier) -> None:
    for tampered in (
        SIGNED.replace("answer", "Answer"),
        SIGNED.replace("is.\n", "is!\n"),
        "X" + SIGNED,
        SIGNED.replace(TEXT, TEXT + "extra line\n"),
    ):
        with pytest.raises(InvalidNote, match="invalid signature for key PeterNeumann\\+c74f20a3"):
            open_note(tampered, [peter_v])


def test_tampered_signature_is_refused(peter_v: NoteVerifier) -> None:
    payload = base64.b64decode(PETER_B64)
    for i in range(4, len(payload)):
        flipped = payload[:i] + bytes([payload[i] ^ 0x01]) + payload[i + 1 :]
        with pytest.raises(InvalidNote, match="invalid signature"):
            open_note(TEXT + "\n" + _signature_line("PeterNeumann", flipped), [peter_v])
    # Go's TestOpen: four more base64 characters in the middle make a 67-byte signature.
    longer = PETER_B64[:43] + "ABCD" + PETER_B64[43:]
    with pytest.raises(InvalidNote, match="invalid signature"):
        open_note(TEXT + "\n" + f"— PeterNeumann {longer}\n", [peter_v])
    with pytest.raises(InvalidNote, match="invalid signature"):
        open_note(TEXT + "\n" + _signature_line("PeterNeumann", payload[:-1]), [peter_v])


def test_signature_by_wrong_key_under_a_known_key_id_is_refused(peter_v: NoteVerifier) -> None:
    other = Ed25519PrivateKey.generate().sign(TEXT.encode())
    line = _signature_line("PeterNeumann", (0xC74F20A3).to_bytes(4, "big") + other)
    with pytest.raises(InvalidNote, match="invalid signature"):
        open_note(TEXT + "\n" + line, [peter_v])


def test_bad_signature_from_known_key_fails_even_after_a_good_one(peter_v: NoteVerifier) -> None:
    # Stricter than Go, which checks only the first line per key: C2SP says verify every one.
    bad = base64.b64decode(PETER_B64)[:-1] + b"\x00"
    with pytest.raises(InvalidNote, match="invalid signature"):
        open_note(SIGNED + _signature_line("PeterNeumann", bad), [peter_v])


def test_repeated_signatures_are_listed_once(peter_v: NoteVerifier) -> None:
    # Go's TestOpen "duplicated verified and unverified signatures".
    enoch_abcd = f"— EnochRoot {ENOCH_B64[:46]}ABCD{ENOCH_B64[46:]}\n"
    message = TEXT + "\n" + PETER_SIG + PETER_SIG + ENOCH_SIG + ENOCH_SIG + enoch_abcd
    note = open_note(message, [peter_v])
    assert [s.to_line() for s in note.signatures] == [PETER_SIG]
    assert [s.to_line() for s in note.unverified_signatures] == [ENOCH_SIG, enoch_abcd]


def test_same_verifier_given_twice_is_fine(peter_v: NoteVerifier) -> None:
    assert open_note(SIGNED, [peter_v, parse_verifier_key(PETER_VKEY)]).text == TEXT


def test_more_than_the_signature_limit_is_refused(peter_v: NoteVerifier) -> None:
    assert len(open_note(TEXT + "\n" + PETER_SIG * MAX_SIGNATURES, [peter_v]).signatures) == 1
    for verifiers in ([peter_v], []):
        with pytest.raises(InvalidNote, match="malformed"):
            open_note(TEXT + "\n" + PETER_SIG * (MAX_SIGNATURES + 1), verifiers)


@pytest.mark.parametrize(
    "message",
    [
        # Go's TestOpen badMsgs.
        TEXT,
        TEXT + "\n",
        TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + TEXT + "\n" + PETER_SIG,
        b"\xff" + SIGNED.encode(),
        TEXT + "\n" + f"— Bad Name {PETER_B64}",
        TEXT + "\n" + f"— Bad Name {PETER_B64}\n",
        TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
        # And more.
        TEXT + "\n" + PETER_SIG.replace("—", "-"),
        TEXT + "\n" + PETER_SIG.replace("— ", "—"),
        TEXT + "\n" + PETER_SIG.replace(" x08", "  x08"),
        TEXT + "\n" + PETER_SIG.replace(" x08", "x08"),
        TEXT + "\n" + "— PeterNeumann\n",
        TEXT + "\n" + "— PeterNeumann \n",
        TEXT + "\n" + "— PeterNeumann AAAA\n",  # fewer than 5 bytes
        TEXT + "\n" + PETER_SIG.replace("AM=", "AN="),  # non-canonical base64
        TEXT + "\n" + PETER_SIG.replace("=", ""),  # unpadded
        TEXT + "\n" + PETER_SIG + "\n",
        TEXT.replace("\n", "\r\n") + "\n" + PETER_SIG,
        "\ud800" + SIGNED,
        "",
    ],
)
def test_malformed_note_is_refused(message: str | bytes, peter_v: NoteVerifier) -> None:
    with pytest.raises(InvalidNote):
        open_note(message, [peter_v])


def test_text_with_blank_lines_round_trips(peter: NoteSigner, peter_v: NoteVerifier) -> None:
    for text in ["a\n\nb\n", "a\n\n", "\n", "\n\n\n", "— looks like a signature\n"]:
        assert open_note(sign_note(text, [peter]), [peter_v]).text == text


def test_c2sp_example_note_parses_and_its_unknown_signature_is_ignored() -> None:
    stranger = NoteVerifier("quasimodo.example/salvatore", Ed25519PrivateKey.generate().public_key())
    with pytest.raises(InvalidNote, match="no signature from a known key"):
        open_note(QUASIMODO, [stranger])


def test_several_signers_sign_in_order(peter: NoteSigner, peter_v: NoteVerifier) -> None:
    witness = NoteSigner("witness.example/w1", Ed25519PrivateKey.generate())
    message = sign_note(TEXT, [peter, witness])
    assert message.startswith(SIGNED)
    note = open_note(message, [witness.verifier, peter_v])
    assert [s.name for s in note.signatures] == ["PeterNeumann", "witness.example/w1"]
    assert open_note(message, [witness.verifier]).unverified_signatures[0].to_line() == PETER_SIG


@pytest.mark.parametrize("text", ["abc", "", "a\x01\n", "a\rb\n", "a\x1b[0m\n", "\ud800\n"])
def test_signing_refuses_text_that_cannot_be_a_note(text: str, peter: NoteSigner) -> None:
    with pytest.raises(ValueError):
        sign_note(text, [peter])


def test_signing_needs_distinct_signers(peter: NoteSigner) -> None:
    with pytest.raises(ValueError):
        sign_note(TEXT, [])
    with pytest.raises(ValueError):
        sign_note(TEXT, [peter, parse_signer_key(PETER_SKEY)])


# ----------------------------------------------------------------------------- checkpoints


def test_c2sp_example_checkpoint_parses_and_round_trips() -> None:
    checkpoint = Checkpoint.parse(SOFA_TEXT)
    assert checkpoint.origin == "example.com/behind-the-sofa"
    assert checkpoint.size == 20852163
    assert checkpoint.root_hash == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert checkpoint.extensions == ()
    assert checkpoint.to_text() == SOFA_TEXT


def test_c2sp_example_signed_checkpoint_opens_only_for_its_key() -> None:
    stranger = NoteVerifier("example.com/behind-the-sofa", Ed25519PrivateKey.generate().public_key())
    with pytest.raises(InvalidNote, match="no signature from a known key"):
        open_note(SOFA, [stranger])


def test_signed_checkpoint_round_trips(peter: NoteSigner, peter_v: NoteVerifier) -> None:
    checkpoint = Checkpoint("example.com/log", 7, bytes(range(32)), ("ext one", "ext two"))
    text = checkpoint.to_text()
    assert text == f"example.com/log\n7\n{base64.b64encode(bytes(range(32))).decode()}\next one\next two\n"
    assert Checkpoint.parse(open_note(sign_note(text, [peter]), [peter_v]).text) == checkpoint


def test_empty_and_largest_trees_round_trip() -> None:
    for size in (0, 1, 2**64 - 1):
        checkpoint = Checkpoint("o", size, bytes(32))
        assert Checkpoint.parse(checkpoint.to_text()) == checkpoint


def test_extensions_given_as_a_list_are_stored_as_a_tuple() -> None:
    checkpoint = Checkpoint("o", 1, bytes(32), ["x"])  # type: ignore[arg-type]
    assert checkpoint.extensions == ("x",)


ROOT_B64 = base64.b64encode(bytes(32)).decode()


@pytest.mark.parametrize(
    "text",
    [
        f"o\n01\n{ROOT_B64}\n",
        f"o\n00\n{ROOT_B64}\n",
        f"o\n-1\n{ROOT_B64}\n",
        f"o\n+1\n{ROOT_B64}\n",
        f"o\n 1\n{ROOT_B64}\n",
        f"o\n1 \n{ROOT_B64}\n",
        f"o\n1_000\n{ROOT_B64}\n",
        f"o\n١\n{ROOT_B64}\n",  # an Arabic-Indic digit, which int() would take
        f"o\n0x1\n{ROOT_B64}\n",
        f"o\n\n{ROOT_B64}\n",
        f"o\n{2**64}\n{ROOT_B64}\n",
        f"o\n{'9' * 5000}\n{ROOT_B64}\n",
        "o\n1\nAAAA\n",  # 3-byte root
        f"o\n1\n{base64.b64encode(bytes(33)).decode()}\n",
        f"o\n1\n{ROOT_B64[:-2]}B=\n",  # non-canonical base64
        f"o\n1\n{ROOT_B64.rstrip('=')}\n",  # unpadded
        f"o\n1\n{ROOT_B64}",  # no final newline
        f"o\n1\n{ROOT_B64}\n\n",  # empty extension line
        f"o\n1\n{ROOT_B64}\next\n\n",
        f"\n1\n{ROOT_B64}\n",  # empty origin
        f"o\x01\n1\n{ROOT_B64}\n",
        "o\n1\n",
        "",
    ],
)
def test_malformed_checkpoint_text_is_refused(text: str) -> None:
    with pytest.raises(InvalidCheckpoint):
        Checkpoint.parse(text)


@pytest.mark.parametrize(
    ("origin", "size", "root", "extensions"),
    [
        ("", 1, bytes(32), ()),
        ("a\nb", 1, bytes(32), ()),
        ("o", -1, bytes(32), ()),
        ("o", 2**64, bytes(32), ()),
        ("o", True, bytes(32), ()),
        ("o", "1", bytes(32), ()),
        ("o", 1, bytes(31), ()),
        ("o", 1, "root", ()),
        ("o", 1, bytes(32), ("",)),
        ("o", 1, bytes(32), ("a\nb",)),
        ("o", 1, bytes(32), "ext"),
    ],
)
def test_invalid_checkpoint_fields_are_refused(
    origin: str, size: int, root: bytes, extensions: tuple[str, ...]
) -> None:
    with pytest.raises(InvalidCheckpoint):
        Checkpoint(origin, size, root, extensions)
