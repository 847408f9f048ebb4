"""What the pages say when something is wrong: the same words for a check made in the browser before
signing and for a problem the registry answered (api/static/js/problems.js maps each RFC 9457
problem, and each JSON pointer in it, to one of these)."""

from __future__ import annotations

from typing import Final

PROBLEMS: Final[dict[str, tuple[str, str]]] = {
    "err.field_line": ("{field}（{line} 行目）", "{field} (line {line})"),
    "err.required": ("入力してください。", "Please fill this in."),
    "err.identifiers_none": (
        "URL・ファイル・名前・ISNI・Wikidata ID のうち、少なくとも 1 つを入力してください。",
        "Give at least one URL, file, name, ISNI or Wikidata ID.",
    ),
    "err.uses_none": ("留保する利用を少なくとも 1 つ選んでください。", "Choose at least one use to reserve."),
    "err.url": (
        "この URL は使えません。https://example.com/gallery/ "
        "のように、実在するドメイン名を含めて入力してください。",
        "This URL cannot be used: give one with a real domain name, such as https://example.com/gallery/.",
    ),
    "err.url_scheme": (
        "http:// か https:// で始まる URL を入力してください。",
        "Give a URL that starts with http:// or https://.",
    ),
    "err.isni": (
        "ISNI は 16 文字です（数字 15 桁と、最後に検査用の数字または X）。",
        "An ISNI is 16 characters: 15 digits and a check character (0-9 or X).",
    ),
    "err.isni_check": (
        "ISNI の最後の検査用の文字が合いません。入力を確かめてください。",
        "The ISNI's check character does not match: please check it.",
    ),
    "err.wikidata": ("Wikidata ID は Q と数字です（例 Q42）。", "A Wikidata ID is Q and a number, like Q42."),
    "err.sha256": ("SHA-256 は 16 進数 64 桁です。", "A SHA-256 is 64 hexadecimal digits."),
    "err.claim_id": ("留保 ID は 16 進数 64 桁です。", "A claim id is 64 hexadecimal digits."),
    "err.name": (
        "名前が長すぎるか、使えない文字を含んでいます。",
        "This name is too long or holds characters that cannot be used.",
    ),
    "err.did": (
        "DID は did:key:z6Mk… か did:web:example.com の形です。",
        "A DID looks like did:key:z6Mk… or did:web:example.com.",
    ),
    "err.operator_required": (
        "相手の事業者を選ぶか、その DID を入力してください。",
        "Pick the operator, or type its DID.",
    ),
    "err.notice_subject": (
        "あなたの作品の URL か、関連する留保 ID を少なくとも 1 つ入力してください。",
        "Give at least one URL of your work or one related claim id.",
    ),
    "err.actions_none": (
        "求める措置を少なくとも 1 つ選んでください。",
        "Choose at least one thing you ask for.",
    ),
    "err.regimes_none": (
        "根拠とする制度を少なくとも 1 つ選んでください。",
        "Choose at least one legal regime.",
    ),
    "err.dmca_kind": (
        "米国 DMCA は著作物のための制度です。声や肖像には NO FAKES 法案を選んでください。",
        "The DMCA covers copyrighted works; for a voice or likeness choose NO FAKES.",
    ),
    "err.nofakes_kind": (
        "NO FAKES 法案は声と肖像のための制度です。作品には DMCA を選んでください。",
        "NO FAKES covers voices and likenesses; for a work choose the DMCA.",
    ),
    "err.missing": ("{regime}で必要です：{requirement}", "Required by the {regime}: {requirement}"),
    "err.notify_webhook": (
        "この URL には通知を送れません。インターネット上の https:// の宛先を入力してください。",
        "Notifications cannot be sent to this URL: give an https:// address on the public internet.",
    ),
    "err.email": (
        "メールアドレスの形になっていません（例 name@example.com）。",
        "This does not look like an email address (name@example.com).",
    ),
    "err.too_long": ("長すぎます（{max} 文字までです）。", "Too long (at most {max} characters)."),
    "err.statement_required": ("説明を入力してください。", "Please write the statement."),
    "err.recovery_keys": (
        "復旧用の鍵の DID を 1〜5 つ、重複なく入力してください（あなた自身の DID は入れられません）。",
        "Give 1 to 5 recovery keys' DIDs, each once, not your own.",
    ),
    "err.recovery_days": ("待機期間は 1〜90 日です。", "The waiting period is 1 to 90 days."),
    "err.invalid": ("この値は受け付けられませんでした。", "This value was not accepted."),
    "err.server_detail": ("レジストリの説明（英語）：", "The registry says: "),
    "err.key_needed": (
        "署名するには鍵が必要です。先に鍵を作るか、読み込んでください。",
        "Signing needs your key: make or load a key first.",
    ),
    "err.sign_failed": ("このブラウザで署名できませんでした。", "This browser could not sign the document."),
    "err.type.clock-window": (
        "この端末の時計がずれているため、署名の日時が受け付けられませんでした。時計を合わせてから、"
        "もう一度お試しください。",
        "This device's clock is off, so the signature's time was refused. Set the clock and try again.",
    ),
    "err.type.invalid-proof": (
        "署名を検証できませんでした。鍵を読み込み直して、もう一度お試しください。",
        "The signature did not verify. Load your key again and retry.",
    ),
    "err.type.wrong-signer": (
        "この文書は、表明者とは別の鍵で署名されています。",
        "This document is signed by a key other than the claimant's.",
    ),
    "err.type.key-retired": (
        "この鍵は鍵の交換か復旧によって引き継がれたため、もう署名に使えません。",
        "This key was rotated away or recovered from, and may sign nothing more.",
    ),
    "err.type.not-claimant": (
        "この留保を取り下げられるのは、署名した表明者だけです。",
        "Only the claimant who signed this claim may withdraw it.",
    ),
    "err.type.already-withdrawn": (
        "この留保はすでに取り下げられています。",
        "This claim was already withdrawn.",
    ),
    "err.type.body-too-large": (
        "内容が大きすぎます。いくつかに分けて提出してください。",
        "This is too large: file it in several parts.",
    ),
    "err.type.document-too-large": (
        "内容が大きすぎます。いくつかに分けて提出してください。",
        "This is too large: file it in several parts.",
    ),
    "err.type.malformed-json": (
        "送信した文書を読めませんでした。ページを読み込み直してください。",
        "The document sent could not be read. Please reload the page.",
    ),
    "err.type.rate-limited": (
        "短い時間に操作が多すぎます。しばらく待ってから、もう一度お試しください。",
        "Too many requests in a short time. Wait a little and try again.",
    ),
    "err.type.network": (
        "レジストリに接続できませんでした。通信状態を確かめて、もう一度お試しください。内容を変えずに"
        "送り直しても、二重に提出されることはありません。",
        "The registry could not be reached. Check your connection and try again: sending the same "
        "form again never files it twice.",
    ),
    "err.type.illegal-transition": (
        "削除要請の状態が変わったため、この操作はできません。ページを読み込み直してください。",
        "The notice's state has changed, so this step no longer applies. Please reload the page.",
    ),
    "err.type.wrong-party": (
        "この操作は、この削除要請の当事者しかできません。",
        "Only a party to this notice may take this step.",
    ),
    "err.type.authority-conflict": (
        "鍵と裏付けの決まりに合わないため、受け付けられませんでした。",
        "Not allowed by the key and authority rules.",
    ),
    "err.type.internal-error": (
        "レジストリで問題が起きました。時間をおいて、もう一度お試しください。",
        "The registry failed. Please try again later.",
    ),
    "err.type.unknown": (
        "レジストリがこの文書を受け付けませんでした。",
        "The registry did not accept this document.",
    ),
}
