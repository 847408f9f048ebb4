"""Content identifiers through the real CLI against a real server: files fingerprinted locally,
re-encoded and resized copies found, names in prompts, embeddings from files, and refusals."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageEnhance

from crawler_client.cli import main
from tests.conftest import ServerProcess
from tests.crawler_client.test_walkthrough import kotowari


def artwork(seed: int, size: tuple[int, int] = (512, 384)) -> Image.Image:
    """A deterministic picture with structure: a gradient and some shapes."""
    rng = random.Random(seed)
    width, height = size
    x = np.linspace(0, 1, width)[None, :]
    y = np.linspace(0, 1, height)[:, None]
    base = (120 + 80 * np.sin(6 * x + 3 * y + seed) + 40 * np.cos(9 * y)).clip(0, 255)
    channels = np.stack([base, base[::-1], base * 0.8], axis=-1)
    image = Image.fromarray(channels.astype("uint8"))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x0, y0 = rng.randrange(width - 60), rng.randrange(height - 60)
        colour = tuple(rng.randrange(256) for _ in range(3))
        draw.ellipse((x0, y0, x0 + rng.randrange(20, 120), y0 + rng.randrange(20, 120)), fill=colour)
    return image


def test_copies_of_a_registered_image_are_found(server: ServerProcess, tmp_path: Path):
    original = artwork(1)
    original.save(tmp_path / "work.png")
    original.convert("RGB").save(tmp_path / "reencoded.jpg", quality=70)
    original.resize((256, 192)).save(tmp_path / "half.png")
    ImageEnhance.Brightness(original).enhance(1.2).save(tmp_path / "brighter.png")
    original.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(tmp_path / "mirrored.png")
    artwork(2).save(tmp_path / "unrelated.png")

    kotowari("keys", "new", "--out", "me.key", cwd=tmp_path)
    kotowari(
        "claim", "new", "--key", "me.key", "--kind", "work", "--file", "work.png", "--deny", "train-ai",
        "--out", "claim.json", cwd=tmp_path,
    )  # fmt: skip
    schemes = [
        i["scheme"] for i in json.loads((tmp_path / "claim.json").read_text())["subject"]["identifiers"]
    ]
    assert schemes[:1] == ["sha256"] and "iscc" in schemes and "pdq" in schemes
    kotowari("claim", "file", "claim.json", "--registry", server.url, cwd=tmp_path)

    for name in ("work.png", "reencoded.jpg", "half.png", "brighter.png", "mirrored.png"):
        result = kotowari(
            "check", "--registry", server.url, "--purpose", "train-ai", "--file", name, "--json",
            cwd=tmp_path, check_status=1,
        )  # fmt: skip
        matches = {m["match"] for item in json.loads(result.stdout)["items"] for m in item["matches"]}
        assert matches & {"pdq", "iscc-content-image", "sha256"}, (name, matches)
    unrelated = kotowari(
        "check", "--registry", server.url, "--purpose", "train-ai", "--file", "unrelated.png", cwd=tmp_path
    )
    assert "unknown" in unrelated.stdout and " n " not in unrelated.stdout


def test_names_texts_and_embeddings_from_the_command_line(server: ServerProcess, tmp_path: Path):
    rng = random.Random(3)
    voice = [rng.gauss(0, 1) for _ in range(192)]
    (tmp_path / "voice.json").write_text(json.dumps(voice))
    (tmp_path / "clone.json").write_text(json.dumps([v + rng.gauss(0, 0.05) for v in voice]))
    kotowari("keys", "new", "--out", "me.key", cwd=tmp_path)
    kotowari(
        "claim", "new", "--key", "me.key", "--kind", "voice",
        "--name", "山寺宏一",
        "--name", "やまでら こういち",
        "--name", "Koichi Yamadera", "--embedding", "speaker/ecapa-tdnn-voxceleb:voice.json",
        "--isni", "0000 0001 2103 2683", "--deny", "generate", "--out", "voice-claim.json", cwd=tmp_path,
    )  # fmt: skip
    kotowari("claim", "file", "voice-claim.json", "--registry", server.url, cwd=tmp_path)

    def check(*flags: str, status: int) -> str:
        return kotowari(
            "check",
            "--registry",
            server.url,
            "--purpose",
            "generate",
            *flags,
            cwd=tmp_path,
            check_status=status,
        ).stdout

    assert "name Koichi Yamadera" in check("--text", "sing it in the voice of Koichi Yamadera", status=1)
    check("--name", "ヤマデラ コウイチ", status=1)
    check("--name", "Yamada", status=0)
    assert "similarity" in check("--embedding", "speaker/ecapa-tdnn-voxceleb:clone.json", status=1)
    check("--isni", "0000000121032683", status=1)


@pytest.mark.parametrize(
    ("flags", "needle"),
    [
        (["--pdq", "abc"], "64 hex"),
        (["--isni", "0000000121032684"], "check"),
        (["--iscc", "ISCC:NOPE"], "iscc"),
        (["--wikidata", "P31"], "wikidata"),
        (["--embedding", "no-colon"], "SPACE:FILE"),
        (["--embedding", "speaker/ecapa-tdnn-voxceleb:missing.json"], "missing.json"),
        (["--embedding", "speaker/ecapa-tdnn-voxceleb:notjson.txt"], "not JSON"),
        (["--embedding", "speaker/ecapa-tdnn-voxceleb:object.json"], "array of numbers"),
        (["--embedding", "speaker/ecapa-tdnn-voxceleb:zero.json"], "zero norm"),
        (["--file", "missing.png"], "missing.png"),
        (["--file", "photo.heic"], "HEIC image that cannot be decoded"),
        (["--name", "・・・"], "name"),
    ],
)
def test_bad_items_are_one_line_errors(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    flags: list[str],
    needle: str,
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notjson.txt").write_text("{nope")
    (tmp_path / "object.json").write_text('{"a": 1}')
    (tmp_path / "zero.json").write_text(json.dumps([0.0] * 192))
    (tmp_path / "photo.heic").write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64))
    main(["keys", "new", "--out", "me.key"])
    capsys.readouterr()
    status = main(["claim", "new", "--key", "me.key", "--kind", "voice", "--deny", "generate", *flags])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1 and needle.lower() in err[0].lower(), err


def test_files_over_the_size_limit_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    import crawler_client.fingerprint as fingerprint

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(fingerprint, "MAX_FILE_BYTES", 1000)
    (tmp_path / "big.bin").write_bytes(b"x" * 2000)
    main(["keys", "new", "--out", "me.key"])
    capsys.readouterr()
    assert (
        main(["claim", "new", "--key", "me.key", "--kind", "work", "--deny", "train-ai", "--file", "big.bin"])
        == 2
    )
    assert "big.bin" in capsys.readouterr().err
