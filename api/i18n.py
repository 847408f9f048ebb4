"""Japanese and English for the portal: one catalog, and the choice of language per request.

Why a dict and not gettext: the portal has two languages and a few hundred strings, every one of
which must exist in both; a test walks the catalog and fails on a missing translation, which .po
files would only report at run time. Japanese is the default because most creators the portal is
for read it first; an explicit choice (the `lang` cookie, set by the switch) beats the browser's
Accept-Language, which beats the default.

>>> negotiate(None, "en-GB,en;q=0.9,ja;q=0.5")
'en'
>>> negotiate("ja", "en")
'ja'
>>> translate("en", "nav.reserve")
'Reserve'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final, Literal

Lang = Literal["ja", "en"]
LANGS: Final[tuple[Lang, ...]] = ("ja", "en")
DEFAULT_LANG: Final[Lang] = "ja"
COOKIE: Final = "lang"

CATALOG: Final[Mapping[str, tuple[str, str]]] = {
    # (日本語, English)
    "site.name": ("断り — AI 利用拒否レジストリ", "Kotowari — AI opt-out registry"),
    "site.tagline": (
        "作品・声・肖像を AI の学習と生成から守るための、署名付きの意思表示と削除要請の登録所です。",
        "A registry of signed reservations and takedown notices that keep works, voices and likenesses "
        "out of AI training and generation.",
    ),
    "nav.label": ("メインメニュー", "Main menu"),
    "nav.home": ("ホーム", "Home"),
    "nav.keys": ("鍵", "Key"),
    "nav.reserve": ("留保する", "Reserve"),
    "nav.takedown": ("削除要請", "Takedown"),
    "nav.lookup": ("検索", "Look up"),
    "nav.stats": ("事業者の対応", "Operators"),
    "lang.switch": ("言語", "Language"),
    "lang.ja": ("日本語", "日本語"),
    "lang.en": ("English", "English"),
    "skip": ("本文へ移動", "Skip to content"),
    "js.required": (
        "このページの署名はブラウザ内の JavaScript で行います。JavaScript を有効にしてください。",
        "Signing happens in your browser with JavaScript; please enable JavaScript for this page.",
    ),
    # home
    "home.title": ("はじめに", "Start here"),
    "home.step1": (
        "鍵を作る（または読み込む）。鍵はこのブラウザから出ません。",
        "Make a key (or load yours). It never leaves this browser.",
    ),
    "home.step2": (
        "作品・声・肖像について、AI 利用の留保を署名して登録する。",
        "Sign and file a reservation for a work, voice or likeness.",
    ),
    "home.step3": (
        "無断で使われたら、AI 事業者に削除要請を出し、対応を追跡する。",
        "If it is used anyway, file a takedown with the AI operator and follow it.",
    ),
    "home.step4": (
        "誰でも登録内容と透明性ログを確認できます。",
        "Anyone can look claims up and check them against the transparency log.",
    ),
    # keys
    "keys.title": ("あなたの鍵", "Your key"),
    "keys.intro": (
        "署名用の鍵（Ed25519）をこのブラウザの中で作ります。秘密鍵はサーバーに送られません。"
        "ファイルとして保存し、なくさないでください。鍵をなくすと、その鍵で出した留保を取り下げられません。",
        "Your signing key (Ed25519) is made inside this browser. The private key is never sent to the "
        "server. Save it as a file and keep it safe: without it you cannot withdraw what you signed.",
    ),
    "keys.generate": ("新しい鍵を作る", "Make a new key"),
    "keys.load": ("鍵ファイルを読み込む", "Load a key file"),
    "keys.download": ("鍵ファイルを保存", "Save the key file"),
    "keys.forget": ("このタブから鍵を消す", "Forget the key in this tab"),
    "keys.current": ("現在の ID (did:key)", "Current identity (did:key)"),
    "keys.none": ("鍵はまだありません。", "No key yet."),
    "keys.session": (
        "鍵はこのタブを閉じるまでブラウザ内（sessionStorage）に保持されます。"
        "CLI の `kotowari` でも同じ鍵ファイルを使えます。",
        "The key stays in this tab (sessionStorage) until you close it. The same key file works with the "
        "`kotowari` command-line tool.",
    ),
    "keys.needed": ("先に鍵を作るか読み込んでください：", "Make or load a key first:"),
    # reserve
    "reserve.title": ("AI 利用を留保する", "Reserve against AI use"),
    "reserve.public": (
        "この留保は公開され、永久に記録されます（取り下げても記録は残ります）。住所や電話番号など、"
        "公開したくない情報は書かないでください。",
        "This claim is public and permanent: it goes into the transparency log, and withdrawing it leaves "
        "the record. Do not put a private address, phone number or anything you would not publish in it.",
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
        "類似画像の検出（ISCC・PDQ）は、ファイルをサーバーに送る必要があるため、この画面では行いません。"
        "必要なら CLI の `kotowari claim new --file` を使ってください（手元で計算します）。",
        "Similar-image fingerprints (ISCC, PDQ) are not computed on this page, as that would need the "
        "file on the server; the CLI's `kotowari claim new --file` computes them on your own machine.",
    ),
    "reserve.names": (
        "名前と読み（1 行に 1 つ：漢字・かな・ローマ字・芸名）",
        "Names and readings (one per line: kanji, kana, romaji, stage names)",
    ),
    "reserve.isni": ("ISNI（任意）", "ISNI (optional)"),
    "reserve.wikidata": ("Wikidata ID（任意、例 Q42）", "Wikidata ID (optional, e.g. Q42)"),
    "reserve.uses": ("留保する利用", "Uses you reserve"),
    "reserve.sign": ("署名して登録", "Sign and file"),
    "reserve.receipt": ("受領証", "Receipt"),
    "receipt.id": ("ID", "ID"),
    "receipt.index": ("ログ上の位置", "Log index"),
    "receipt.tree_size": ("ログの大きさ", "Log size"),
    "receipt.view": ("登録内容を見る", "View the claim"),
    "receipt.download": ("署名済み文書を保存", "Save the signed document"),
    "use.train-ai": ("AI の学習", "AI training"),
    "use.train-genai": ("生成 AI の学習", "Generative AI training"),
    "use.ai-input": ("AI への入力", "Input to AI"),
    "use.search": ("検索", "Search"),
    "use.generate": ("模倣の生成", "Imitative generation"),
    "usehelp.train-ai": (
        "あらゆる AI モデルの学習・追加学習に使うこと。",
        "Training or fine-tuning any AI model.",
    ),
    "usehelp.train-genai": (
        "生成 AI の学習に使うこと（「AI の学習」を留保すれば含まれます）。",
        "Training generative AI (reserving AI training covers it).",
    ),
    "usehelp.ai-input": (
        "推論時に AI へ入力すること（RAG、グラウンディングなど）。",
        "Feeding it to AI at inference time (RAG, grounding).",
    ),
    "usehelp.search": ("検索エンジンの索引に入れること。", "Indexing it for search."),
    "usehelp.generate": (
        "声・姿・作風や登場人物をまねた出力を作ること。",
        "Producing output that imitates the voice, the likeness, or a work's expression or characters.",
    ),
    # takedown
    "takedown.title": ("削除要請を出す", "File a takedown notice"),
    "takedown.operator": ("相手の AI 事業者（DID）", "The AI operator (DID)"),
    "takedown.operator_help": (
        "登録済みの事業者から選ぶか、DID（did:key または did:web）を入力してください。"
        "ドメイン確認済みの事業者が先に並びます。自己申告の事業者の名前は、誰も確かめていません。",
        "Pick a registered operator or type its DID (did:key or did:web). Domain-verified operators "
        "come first; nobody has checked a self-asserted operator's name.",
    ),
    "takedown.operator_verified": ("ドメイン確認済み：{domain}", "Domain-verified: {domain}"),
    "takedown.operator_unverified": (
        "自己申告：ドメインは未確認です。この名前が本物である保証はありません。",
        "Self-asserted: no verified domain. Nothing confirms this name.",
    ),
    "takedown.operator_unknown": (
        "登録されていない DID です。要請は、事業者が登録するまで保留されます。",
        "Not a registered operator: the notice is held until it registers.",
    ),
    "takedown.subject": ("守りたいもの", "What is yours"),
    "takedown.subject_title": ("題名・人物名", "Title or person's name"),
    "takedown.claims": ("関連する登録 ID（1 行に 1 つ、任意）", "Related claim ids (one per line, optional)"),
    "takedown.subject_urls": (
        "あなたの作品の URL（1 行に 1 つ、任意）",
        "URLs of your work (one per line, optional)",
    ),
    "takedown.material": ("問題のあるもの", "The material"),
    "takedown.loc_urls": ("URL（1 行に 1 つ）", "URLs (one per line)"),
    "takedown.loc_models": ("モデル ID（1 行に 1 つ）", "Model ids (one per line)"),
    "takedown.loc_datasets": ("データセット ID（1 行に 1 つ）", "Dataset ids (one per line)"),
    "takedown.actions": ("求める対応", "What you ask for"),
    "action.remove": ("削除", "Remove it"),
    "action.disable": ("アクセス停止", "Disable access"),
    "action.stop-training-use": ("学習への利用をやめる", "Stop using it for training"),
    "action.stop-generation": ("生成をやめる", "Stop generating it"),
    "action.retrain": ("除外して再学習", "Retrain without it"),
    "action.stay-down": ("再掲載しない", "Keep it down"),
    "takedown.regimes": ("根拠とする制度", "Legal regimes"),
    "takedown.requires": ("この制度で必要な項目", "What this regime requires"),
    "regime.dmca": ("米国 DMCA（著作物）", "US DMCA (copyrighted works)"),
    "regime.dsa": ("EU デジタルサービス法", "EU Digital Services Act"),
    "regime.jp-platform": ("情報流通プラットフォーム対処法", "Japan: Information Distribution Platform Act"),
    "regime.no-fakes": ("米国 NO FAKES 法案（声・肖像）", "US NO FAKES Act bill (voice, likeness)"),
    "takedown.grounds": ("理由の説明", "Why it is unlawful"),
    "takedown.contact": ("連絡先", "Contact"),
    "contact.name": ("氏名", "Name"),
    "contact.email": ("メール", "Email"),
    "contact.address": ("住所", "Address"),
    "contact.phone": ("電話", "Phone"),
    "takedown.signature": ("署名（氏名を入力）", "Signature (type your name)"),
    "takedown.statements": ("宣誓", "Statements"),
    "statement.good-faith": (
        "この利用は権利者に許諾されていないと誠実に信じます。",
        "I believe in good faith that this use is not authorised.",
    ),
    "statement.accuracy": ("この要請の内容は正確です。", "The information in this notice is accurate."),
    "statement.authority-under-penalty-of-perjury": (
        "偽証罪の制裁のもと、権利者のために行動する権限があることを述べます。",
        "Under penalty of perjury, I am authorised to act for the owner.",
    ),
    "statement.authority": (
        "本人のために行動する権限があります。",
        "I am authorised to act for the individual.",
    ),
    "takedown.jp": ("情報流通プラットフォーム対処法の申出", "Japan platform act request"),
    "jp.infringed_right": ("侵害された権利", "The right infringed"),
    "jp.reason": ("権利が侵害されたとする理由", "Why the right is infringed"),
    "takedown.sign": ("署名して提出", "Sign and file"),
    "takedown.filed": ("提出しました", "Filed"),
    "takedown.follow": ("状況を見る", "Follow it"),
    "takedown.held": (
        "この事業者はまだレジストリに登録していないため、要請は保留され、登録された時点で届けられます。",
        "This operator has not registered with the registry yet: the notice is held, and delivered "
        "when it registers.",
    ),
    "takedown.mine": ("このブラウザから出した削除要請", "Notices filed from this browser"),
    "notice.locations": ("問題のあるものの所在", "Where the material is"),
    "notice.actions": ("求めた対応", "Actions asked for"),
    "lookup.unknown_id": ("その ID の登録も削除要請もありません。", "No claim or notice has that id."),
    "errors.title": ("直してください", "Please fix"),
    # notice page
    "notice.title": ("削除要請の状況", "Takedown notice status"),
    "notice.state": ("状態", "State"),
    "notice.deadlines": ("期限", "Deadlines"),
    "deadline.acknowledge_by": ("受領確認の期限", "Acknowledge by"),
    "deadline.decide_by": ("判断の期限", "Decide by"),
    "deadline.restore_not_before": ("復元は次の日時以降", "Not restored before"),
    "deadline.restore_by": ("復元の期限", "Restore by"),
    "notice.overdue": ("期限切れ", "Overdue"),
    "notice.events": ("経過", "History"),
    "notice.no_events": ("まだ対応はありません。", "No steps yet."),
    "notice.counter": ("異議申立てへの応答", "Answer the counter-notice"),
    "notice.counter_help": (
        "事業者が異議申立てを伝えました。訴訟などの法的措置をとった場合は、その旨を署名して伝えると、"
        "削除が維持されます。",
        "The operator relayed a counter-notice. If you have taken legal action, say so with a signed "
        "statement and the material stays down.",
    ),
    "notice.uphold_statement": (
        "説明（例：提訴した裁判所と事件番号）",
        "Statement (e.g. the court and case number)",
    ),
    "notice.uphold": ("署名して法的措置を伝える", "Sign and report legal action"),
    "notice.close": ("署名してこの要請を終える", "Sign and close this notice"),
    "notice.closable": (
        "判断が出ました。終えることができます。",
        "A decision was made; you may close the notice.",
    ),
    "notice.sent": ("送信しました。再読み込みします…", "Sent. Reloading…"),
    "state.filed": ("提出済み", "filed"),
    "state.delivered": ("配達済み", "delivered"),
    "state.acknowledged": ("受領確認済み", "acknowledged"),
    "state.actioned": ("対応済み", "actioned"),
    "state.rejected": ("拒否", "rejected"),
    "state.counter-noticed": ("異議申立てあり", "counter-noticed"),
    "state.restored": ("復元", "restored"),
    "state.upheld": ("維持", "upheld"),
    "state.closed": ("終了", "closed"),
    # lookup
    "lookup.title": ("登録を探す", "Look up claims"),
    "lookup.query": (
        "URL・名前・ISNI・Wikidata・SHA-256・登録 ID",
        "URL, name, ISNI, Wikidata, SHA-256 or claim id",
    ),
    "lookup.scheme": ("種類", "Kind"),
    "scheme.auto": ("自動", "Automatic"),
    "scheme.url": ("URL", "URL"),
    "scheme.name": ("名前", "Name"),
    "scheme.isni": ("ISNI", "ISNI"),
    "scheme.wikidata": ("Wikidata", "Wikidata"),
    "scheme.sha256": ("SHA-256", "SHA-256"),
    "scheme.claim": ("登録 ID", "Claim id"),
    "lookup.search": ("検索", "Search"),
    "lookup.results": ("結果", "Results"),
    "lookup.none": ("一致する登録はありません。", "No claim matches."),
    "lookup.decision": ("AI の学習について", "For AI training"),
    "decision.n": ("留保されています", "reserved"),
    "decision.y": ("許可されています", "allowed"),
    "decision.unknown": ("表明なし", "no statement"),
    "lookup.match": ("一致の種類", "Match"),
    "lookup.name_note": (
        "名前だけの一致は、内容の一致ではありません。",
        "A name match alone is not a content match.",
    ),
    # claim page
    "claim.title": ("登録内容", "Claim"),
    "claim.status": ("状態", "Status"),
    "status.active": ("有効", "active"),
    "status.withdrawn": ("取り下げ済み", "withdrawn"),
    "claim.claimant": ("登録者", "Claimant"),
    "claim.kind": ("対象", "Subject"),
    "claim.identifiers": ("識別子", "Identifiers"),
    "claim.uses": ("利用の表明", "Uses"),
    "claim.history": ("ログの履歴", "History in the log"),
    "claim.filed": ("登録", "Filed"),
    "claim.withdrawn": ("取り下げ", "Withdrawn"),
    "claim.proof": ("包含証明", "Inclusion proof"),
    "claim.proof_help": (
        "この登録が透明性ログ（RFC 9162）に含まれていることを、このブラウザで確かめます："
        "文書を正規化してハッシュし、証明の経路をチェックポイントの根まで計算し、"
        "チェックポイントへのレジストリの署名を検証します。",
        "Checked in this browser: the document is canonicalised and hashed, the proof path is "
        "computed up to the checkpoint's root (RFC 9162), and the registry's signature on the "
        "checkpoint is verified.",
    ),
    "claim.proof_checking": ("確認中…", "Checking…"),
    "claim.proof_ok": ("確認できました：ログに含まれています。", "Verified: the claim is in the log."),
    "claim.proof_bad": ("確認できません：証明が一致しません。", "Not verified: the proof does not match."),
    "claim.checkpoint": ("チェックポイント", "Checkpoint"),
    "claim.related": ("同じ対象への他の登録・異議", "Other claims on the same subject, disputes"),
    "claim.withdraw": ("この登録を取り下げる", "Withdraw this claim"),
    "claim.withdraw_help": (
        "この登録はあなたの鍵で署名されています。取り下げても、ログには取り下げた記録が残ります。",
        "You signed this claim with your key. Withdrawing it is recorded in the log beside it.",
    ),
    "claim.withdraw_reason": ("理由（任意）", "Reason (optional)"),
    "claim.withdraw_sign": ("署名して取り下げる", "Sign and withdraw"),
    "claim.download": ("署名済み文書（JSON）", "Signed document (JSON)"),
    # stats
    "stats.title": ("AI 事業者の対応状況", "How AI operators respond"),
    "stats.table": ("事業者ごとの件数と時間", "Counts and times per operator"),
    "stats.none": ("まだ削除要請はありません。", "No notices yet."),
    "stats.operator": ("事業者", "Operator"),
    "stats.received": ("受付", "Received"),
    "stats.acknowledged": ("受領確認", "Acknowledged"),
    "stats.actioned": ("対応", "Actioned"),
    "stats.rejected": ("拒否", "Rejected"),
    "stats.overdue": ("期限切れ", "Overdue"),
    "stats.median_ack": ("受領確認までの中央値", "Median time to acknowledge"),
    "stats.chart": ("事業者ごとの受付件数と対応件数", "Notices received and actioned per operator"),
    "stats.unregistered": ("未登録", "not registered"),
    "stats.authority": ("ドメインと裏付け", "Domain and authority"),
    # operators
    "operator.directory": ("登録済みの事業者", "Registered operators"),
    "operator.domain": ("ドメイン", "Domain"),
    "operator.name": ("名前", "Name"),
    "operator.unverified": ("未確認", "unverified"),
    "operator.disputed": (
        "この名前は、ドメイン確認済みの別の事業者のものです。",
        "This name belongs to another, domain-verified operator.",
    ),
    "operator.disputed_short": ("名前に異議", "name disputed"),
    # authority. Glossary, one term per level everywhere (pages, help, badges):
    #   self-asserted 自己申告 · agent-asserted 代理人申告 · mandated 委任あり ·
    #   attested 団体の証明あり · domain-verified ドメイン確認済み · authority (the word) 裏付け
    "authority.title": ("裏付け", "Authority"),
    "authority.self-asserted": ("自己申告", "self-asserted"),
    "authority.agent-asserted": ("代理人申告", "agent-asserted"),
    "authority.mandated": ("委任あり", "mandated"),
    "authority.attested": ("団体の証明あり", "attested"),
    "authority.domain-verified": ("ドメイン確認済み", "domain-verified"),
    "authorityhelp.self-asserted": (
        "登録者が自分について申告しているだけで、第三者は確かめていません。",
        "The claimant speaks for itself; nobody else has confirmed it.",
    ),
    "authorityhelp.agent-asserted": (
        "代理人が本人のためと申告していますが、本人の委任状はログにありません。",
        "An agent says it acts for someone, but no mandate from that person is in the log.",
    ),
    "authorityhelp.mandated": (
        "本人が署名した委任状の範囲内で、代理人が登録しています。",
        "Filed by an agent within a mandate the principal signed.",
    ),
    "authorityhelp.attested": (
        "ドメイン確認済みの団体（組合・事務所・協会など）が、本人であること、または会員であることを証明しています。",
        "A domain-verified organisation (a union, an agency, an association) vouches for the person "
        "or their membership.",
    ),
    "authorityhelp.domain-verified": (
        "この URL のドメインを登録者（または委任した本人）が管理していることを、レジストリが確かめました。",
        "The registry checked that the claimant (or the principal who mandated it) controls this URL's "
        "domain.",
    ),
    "authority.base": ("基本の裏付け", "Base authority"),
    "authority.as_of": ("この時点のログの大きさ", "as of log size"),
    "authority.chain": ("裏付けの根拠", "The chain behind it"),
    "authority.none": (
        "登録者自身の申告のほかに、裏付けはありません。",
        "Nothing beyond the claimant's own word.",
    ),
    "authority.unavailable": (
        "取り下げられた登録には、裏付けを示しません。",
        "A withdrawn claim shows no authority.",
    ),
    "authority.glossary": ("裏付けの種類", "Kinds of authority"),
    "authority.by": ("確かめた者", "By"),
    "authority.this_registry": ("このレジストリ", "this registry"),
    "authority.method": ("方法", "How"),
    "authority.covers": ("範囲", "Covers"),
    "authority.until": ("有効期限", "valid until"),
    "authority.notes": (
        "数えられないもの（レジストリの注記、英語）",
        "What does not count (the registry's notes)",
    ),
    "method.did-web": (
        "did:web（そのドメインで公開された DID 文書）",
        "did:web (a DID document served on the domain)",
    ),
    "method.well-known": ("確認ファイル（/.well-known/）", "verification file (/.well-known/)"),
    "method.dns-txt": ("DNS TXT レコード", "DNS TXT record"),
    "method.mandate": ("本人の委任状", "the principal's mandate"),
    "method.attestation:identity": ("本人であることの証明", "attestation of identity"),
    "method.attestation:member": ("会員であることの証明", "attestation of membership"),
    "lookup.authority_note": (
        "「裏付け」は、その登録がどこまで確かめられているかを示します。自己申告だけの登録は、誰でも出せます。",
        "Authority says how far a claim has been checked; anyone can file a self-asserted claim.",
    ),
    "hours": ("時間", "hours"),
    # errors
    "error.title": ("エラー", "Error"),
    "error.not_found": ("見つかりません。", "Not found."),
    "error.csrf": (
        "フォームの確認に失敗しました。ページを読み込み直してからもう一度送信してください。",
        "The form could not be verified. Reload the page and send it again.",
    ),
    "error.back": ("ホームに戻る", "Back to the start"),
}


def translate(lang: str, key: str) -> str:
    """The catalog entry in `lang`; an unknown key shows itself, so a gap is visible, not a crash."""
    entry = CATALOG.get(key)
    if entry is None:
        return key
    return entry[1] if lang == "en" else entry[0]


def translator(lang: str) -> Callable[[str], str]:
    """`t("nav.home")` for templates."""
    return lambda key: translate(lang, key)


def parse_accept_language(header: str) -> list[tuple[str, float]]:
    """(primary language subtag, q) pairs, best first; malformed parts are skipped, never raised."""
    ranked: list[tuple[str, float, int]] = []
    for position, part in enumerate(header.split(",")[:50]):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        if not tag:
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if not 0.0 < quality <= 1.0:
            continue
        ranked.append((tag.split("-")[0], quality, position))
    ranked.sort(key=lambda item: (-item[1], item[2]))
    return [(tag, quality) for tag, quality, _ in ranked]


def negotiate(cookie: str | None, accept_language: str | None) -> Lang:
    """The cookie if it names a language we have; else the best of ours the browser ranks; else ja."""
    for lang in LANGS:
        if cookie == lang:
            return lang
    for tag, _ in parse_accept_language(accept_language or ""):
        for lang in LANGS:
            if tag == lang:
                return lang
    return DEFAULT_LANG
