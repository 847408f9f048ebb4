"""Reservations: the reserve form, its receipt, the uses, lookups and the claim page."""

from __future__ import annotations

from typing import Final

CLAIMS: Final[dict[str, tuple[str, str]]] = {
    "reserve.title": ("AI への利用を留保する", "Reserve against AI use"),
    "reserve.intro": (
        "作品・声・肖像を識別できる情報と、AI に使わせない利用を選び、あなたの鍵で署名して留保を提出します。",
        "Name the work, voice or likeness, choose the uses you reserve, and sign and file the "
        "reservation with your key.",
    ),
    "reserve.private": (
        "住所や電話番号など、公開したくない情報は書かないでください。",
        "Do not put a private address, phone number or anything you would not publish in it.",
    ),
    "reserve.kind": ("対象", "What it is about"),
    "kind.work": ("作品", "A work"),
    "kind.voice": ("声", "A voice"),
    "kind.likeness": ("肖像", "A likeness"),
    "reserve.title_field": ("題名・名称（任意）", "Title (optional)"),
    "reserve.urls": (
        "URL（1 行に 1 つ。末尾が / ならその下すべて）",
        "URLs (one per line; ending in / covers everything below)",
    ),
    "reserve.files": ("ファイル", "Files"),
    "reserve.files_help": (
        "ファイルの SHA-256 をこのブラウザ内で計算します。ファイル自体はアップロードされません。",
        "Each file's SHA-256 is computed in this browser. The file itself is not uploaded.",
    ),
    "reserve.fingerprint_note": (
        "似た画像の検出に使う指紋（ISCC・PDQ）は、この画面では計算しません。必要なら、コマンドラインの "
        "kotowari claim new --file を使ってください（お使いの端末の中で計算します）。",
        "Similar-image fingerprints (ISCC, PDQ) are not computed on this page; the command line's "
        "kotowari claim new --file computes them on your own machine.",
    ),
    "reserve.names": (
        "名前と読み（1 行に 1 つ：漢字・かな・ローマ字・芸名）",
        "Names and readings (one per line: kanji, kana, romaji, stage names)",
    ),
    "reserve.isni": ("ISNI（任意）", "ISNI (optional)"),
    "reserve.wikidata": ("Wikidata ID（任意、例 Q42）", "Wikidata ID (optional, e.g. Q42)"),
    "reserve.uses": ("留保する利用", "Uses you reserve"),
    "reserve.sign": ("署名して提出", "Sign and file"),
    "reserve.receipt": ("受領証", "Receipt"),
    "reserve.already": (
        "この留保はすでに提出済みです。同じ文書を二重に提出することはありません。",
        "This reservation was already filed; the same document is never filed twice.",
    ),
    "receipt.id": ("留保 ID", "Claim id"),
    "receipt.index": ("ログ上の番号", "Log index"),
    "receipt.tree_size": ("その時点のログの記録件数", "Log size at the time"),
    "receipt.view": ("留保の内容を見る", "View the claim"),
    "receipt.download": ("署名済みの文書を保存", "Save the signed document"),
    "use.train-ai": ("AI の学習", "AI training"),
    "use.train-genai": ("生成 AI の学習", "Generative AI training"),
    "use.ai-input": ("AI への入力", "Input to AI"),
    "use.search": ("検索", "Search"),
    "use.generate": ("まねた生成", "Imitative generation"),
    "usehelp.train-ai": (
        "あらゆる AI モデルの学習・追加学習に使うことです。",
        "Training or fine-tuning any AI model.",
    ),
    "usehelp.train-genai": (
        "生成 AI の学習に使うことです（「AI の学習」を留保すれば、これも含まれます）。",
        "Training generative AI (reserving AI training covers it).",
    ),
    "usehelp.ai-input": (
        "推論のときに AI へ入力することです（RAG、グラウンディングなど）。",
        "Feeding it to AI at inference time (RAG, grounding).",
    ),
    "usehelp.search": ("検索エンジンの索引に入れることです。", "Indexing it for search."),
    "usehelp.generate": (
        "声・肖像・作風や登場人物をまねた出力を AI で作ることです。",
        "Producing output that imitates the voice, the likeness, or a work's expression or characters.",
    ),
    "decision.n": ("留保されています", "reserved"),
    "decision.y": ("許可されています", "allowed"),
    "decision.unknown": ("表明なし", "no statement"),
    "decision.withdrawn": ("取り下げ済み（効力はありません）", "withdrawn (no longer in force)"),
    # lookup
    "lookup.title": ("留保を探す", "Look up reservations"),
    "lookup.query": (
        "URL・名前・ISNI・Wikidata・SHA-256・ISCC・留保 ID",
        "URL, name, ISNI, Wikidata, SHA-256, ISCC or claim id",
    ),
    "lookup.scheme": ("種類", "Kind"),
    "scheme.auto": ("自動判定", "Automatic"),
    "scheme.url": ("URL", "URL"),
    "scheme.name": ("名前", "Name"),
    "scheme.isni": ("ISNI", "ISNI"),
    "scheme.wikidata": ("Wikidata", "Wikidata"),
    "scheme.sha256": ("SHA-256", "SHA-256"),
    "scheme.iscc": ("ISCC", "ISCC"),
    "scheme.claim": ("留保 ID", "Claim id"),
    "lookup.search": ("検索", "Search"),
    "lookup.results": ("結果", "Results"),
    "lookup.searched_as": ("検索した種類：", "Looked up as: "),
    "lookup.none": ("一致する留保はありません。", "No reservation matches."),
    "lookup.headline": ("利用ごとの状態", "Each use"),
    "lookup.use": ("利用", "Use"),
    "lookup.state": ("状態", "State"),
    "lookup.match": ("一致の種類", "Match"),
    "lookup.uses_of_claim": ("この留保の利用", "This claim's uses"),
    "lookup.name_note": (
        "名前だけの一致は、内容の一致ではありません。",
        "A name match alone is not a content match.",
    ),
    "lookup.unknown_id": ("その ID の留保も削除要請もありません。", "No claim or notice has that id."),
    "lookup.drop": ("ファイルで探す", "Look up a file"),
    "lookup.drop_help": (
        "ファイルをここにドロップするか選ぶと、このブラウザ内で SHA-256 を、"
        "画像なら PDQ（似た画像を探す指紋）も計算して探します。ファイル自体は送信されません。",
        "Drop a file here or choose one: its SHA-256 and, for an image, its PDQ hash (a fingerprint that "
        "finds similar images) are computed in this browser and looked up. The file itself is not sent.",
    ),
    "lookup.drop_choose": ("ファイルを選ぶ", "Choose a file"),
    "lookup.hashing": (
        "このブラウザ内で SHA-256 と PDQ を計算しています…",
        "Computing the SHA-256 and PDQ in this browser…",
    ),
    "lookup.exact_title": ("同じファイル（SHA-256）", "The same file (SHA-256)"),
    "lookup.pdq_title": ("似た画像（PDQ）", "Similar images (PDQ)"),
    "lookup.pdq_searched": (
        "この画像の PDQ（品質 {q}、回転・反転した 7 通りを含む）でも探しました。",
        "Also looked up by this image's PDQ hash (quality {q}, with its 7 rotated and mirrored forms).",
    ),
    "lookup.pdq_low_quality": (
        "この画像の PDQ の品質は {q} で、{min} に届かないため、PDQ では探していません。"
        "平坦な画像や小さな画像の PDQ は無関係な画像とも一致してしまうためです。SHA-256 だけで探しました。",
        "This image's PDQ quality is {q}, below {min}, so it was not looked up by PDQ: the PDQ hash of a "
        "flat or small image matches unrelated images too. It was looked up by its SHA-256 only.",
    ),
    "lookup.pdq_distance": ("距離 {d}/256", "distance {d} of 256"),
    "lookup.pdq_distance_note": (
        "距離は、256 ビットのうち異なるビットの数です。{max} 以下を似た画像とみなします。"
        "0 に近いほど似ています。",
        "The distance is how many of the 256 bits differ; up to {max} counts as a similar image, and the "
        "closer to 0, the more alike.",
    ),
    "lookup.pdq_none": ("似た画像の留保はありません。", "No reservation of a similar image."),
    "lookup.combined_note": (
        "この表は、同じファイルと似た画像の両方の留保をまとめた状態です。",
        "This table combines the reservations of the same file and of similar images.",
    ),
    "lookup.pdq_invalid": (
        "PDQ の値が正しくありません（64 桁の 16 進数で、品質は 0 から 100 の整数です）。",
        "The PDQ values are not valid (64 hex digits, with a quality from 0 to 100).",
    ),
    "lookup.error": ("この検索はできませんでした。", "This lookup could not be done."),
    # claim page
    "claim.title": ("留保の内容", "Claim"),
    "claim.status": ("状態", "Status"),
    "status.active": ("有効", "active"),
    "status.withdrawn": ("取り下げ済み", "withdrawn"),
    "claim.withdrawn_note": (
        "この留保は取り下げられています。下の利用は、もう留保されていません。",
        "This claim was withdrawn: the uses below are no longer reserved by it.",
    ),
    "claim.claimant": ("表明者", "Claimant"),
    "claim.kind": ("対象", "Subject"),
    "claim.identifiers": ("識別子", "Identifiers"),
    "claim.uses": ("利用の表明", "Uses"),
    "claim.uses_as_filed": ("提出時の表明", "As filed"),
    "claim.history": ("ログの履歴", "History in the log"),
    "claim.filed": ("提出", "Filed"),
    "claim.withdrawn": ("取り下げ", "Withdrawn"),
    "claim.proof": ("包含証明", "Inclusion proof"),
    "claim.proof_help": (
        "この留保が透明性ログ（RFC 9162）に含まれていることを、このブラウザで確かめます。文書を正規化して"
        "ハッシュし、証明の経路をチェックポイントの根まで計算し、チェックポイントへのレジストリの署名を"
        "検証します。",
        "Checked in this browser: the document is canonicalised and hashed, the proof path is "
        "computed up to the checkpoint's root (RFC 9162), and the registry's signature on the "
        "checkpoint is verified.",
    ),
    "claim.proof_checking": ("確認しています…", "Checking…"),
    "claim.proof_ok": (
        "確認できました。この留保はログに含まれています。",
        "Verified: the claim is in the log.",
    ),
    "claim.proof_bad": ("確認できません。証明が一致しません。", "Not verified: the proof does not match."),
    "claim.checkpoint": ("チェックポイント", "Checkpoint"),
    "claim.related": ("同じ対象への他の留保・異議", "Other claims on the same subject, disputes"),
    "claim.withdraw": ("この留保を取り下げる", "Withdraw this claim"),
    "claim.withdraw_help": (
        "この留保はあなたの鍵で署名されています。取り下げると、ログには取り下げた記録が加わります。",
        "You signed this claim with your key. Withdrawing it is recorded in the log beside it.",
    ),
    "claim.withdraw_reason": ("理由（任意）", "Reason (optional)"),
    "claim.withdraw_sign": ("署名して取り下げる", "Sign and withdraw"),
    "claim.download": ("署名済みの文書（JSON）", "Signed document (JSON)"),
}
