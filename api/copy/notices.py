"""Takedown notices: the form, the regimes and what each requires, the notice page, its history,
the notices filed from this browser, and the operators' statistics."""

from __future__ import annotations

from typing import Final

NOTICES: Final[dict[str, tuple[str, str]]] = {
    "takedown.title": ("削除要請を出す", "File a takedown notice"),
    "takedown.public": (
        "削除要請は公開され、透明性ログに永久に残ります。氏名・メール・住所・電話・署名は公開部分から"
        "切り離して送られ、相手の事業者だけが読めます。",
        "A takedown notice is public and permanent in the transparency log. Your name, email, address, "
        "phone and signature are split off before signing and only the operator can read them.",
    ),
    "takedown.operator": ("相手の AI 事業者", "The AI operator"),
    "takedown.operator_pick": ("登録済みの事業者から選ぶ", "Pick a registered operator"),
    "takedown.operator_pick_none": ("（選んでください）", "(choose one)"),
    "takedown.operator_other": ("一覧にない事業者（DID を入力）", "Another operator (type its DID)"),
    "takedown.operator_did": ("事業者の DID", "The operator's DID"),
    "takedown.operator_help": (
        "名前で選ぶか、DID（did:key または did:web）を入力してください。ドメイン確認済みの事業者が先に"
        "並びます。自己申告の事業者の名前は、誰も確かめていません。",
        "Pick an operator by name, or type its DID (did:key or did:web). Domain-verified operators come "
        "first; nobody has checked a self-asserted operator's name.",
    ),
    "takedown.operator_verified": ("ドメイン確認済み：{domain}", "Domain-verified: {domain}"),
    "takedown.operator_unverified": (
        "自己申告です。ドメインは確認されておらず、この名前が本物である保証はありません。",
        "Self-asserted: no verified domain. Nothing confirms this name.",
    ),
    "takedown.operator_unknown": (
        "登録されていない事業者の DID です。削除要請は、その事業者が登録するまで保留されます。",
        "Not a registered operator: the notice is held until it registers.",
    ),
    "takedown.subject": ("守りたいもの", "What is yours"),
    "takedown.subject_title": ("題名・人物名", "Title or person's name"),
    "takedown.claims": ("関連する留保 ID（1 行に 1 つ、任意）", "Related claim ids (one per line, optional)"),
    "takedown.subject_urls": (
        "あなたの作品の URL（1 行に 1 つ、任意）",
        "URLs of your work (one per line, optional)",
    ),
    "takedown.subject_help": (
        "URL か留保 ID の少なくとも一方を入力してください。",
        "Give at least one URL or claim id.",
    ),
    "takedown.material": ("問題のあるもの（侵害情報）", "The material"),
    "takedown.loc_urls": ("URL（1 行に 1 つ）", "URLs (one per line)"),
    "takedown.loc_models": ("モデル ID（1 行に 1 つ）", "Model ids (one per line)"),
    "takedown.loc_datasets": ("データセット ID（1 行に 1 つ）", "Dataset ids (one per line)"),
    "takedown.actions": ("求める措置", "What you ask for"),
    "action.remove": ("削除", "Remove it"),
    "action.disable": ("送信の停止", "Disable access"),
    "action.stop-training-use": ("学習への利用の停止", "Stop using it for training"),
    "action.stop-generation": ("生成の停止", "Stop generating it"),
    "action.retrain": ("除外したうえでの再学習", "Retrain without it"),
    "action.stay-down": ("再掲載の防止", "Keep it down"),
    "takedown.regimes": ("根拠とする制度", "Legal regimes"),
    "takedown.requires": ("この制度で必要な項目", "What this regime requires"),
    "regime.dmca": ("米国 DMCA（著作物）", "US DMCA (copyrighted works)"),
    "regime.dsa": ("EU デジタルサービス法（DSA）", "EU Digital Services Act"),
    "regime.jp-platform": ("情報流通プラットフォーム対処法", "Japan: Information Distribution Platform Act"),
    "regime.no-fakes": ("米国 NO FAKES 法案（声・肖像）", "US NO FAKES Act bill (voice, likeness)"),
    # what each regime requires (registry.notices.REQUIREMENTS, one entry per regime and pointer)
    "req.dmca./signature": (
        "署名（手書きまたは電子署名。17 U.S.C. 512(c)(3)(A)(i)）",
        "A physical or electronic signature (17 U.S.C. 512(c)(3)(A)(i))",
    ),
    "req.dmca./subject/title": (
        "侵害された著作物の特定：題名・説明・留保 ID のいずれか（512(c)(3)(A)(ii)）",
        "Identification of the copyrighted work: a title, description or claim ids (512(c)(3)(A)(ii))",
    ),
    "req.dmca./material/locations": (
        "侵害しているものとその所在（512(c)(3)(A)(iii)）",
        "The infringing material and where it is (512(c)(3)(A)(iii))",
    ),
    "req.dmca./contact/name": (
        "申出者の氏名（512(c)(3)(A)(iv)）",
        "The complaining party's name (512(c)(3)(A)(iv))",
    ),
    "req.dmca./contact/address": (
        "申出者への連絡先：住所・電話・メールのいずれか（512(c)(3)(A)(iv)）",
        "An address, telephone number or email to reach the complaining party (512(c)(3)(A)(iv))",
    ),
    "req.dmca./statements/good-faith": (
        "許諾のない利用だと誠実に信じる旨の宣誓（512(c)(3)(A)(v)）",
        "A statement of good-faith belief that the use is not authorised (512(c)(3)(A)(v))",
    ),
    "req.dmca./statements/accuracy": (
        "削除要請の内容が正確である旨の宣誓（512(c)(3)(A)(vi)）",
        "A statement that the information in the notice is accurate (512(c)(3)(A)(vi))",
    ),
    "req.dmca./statements/authority-under-penalty-of-perjury": (
        "権利者のために行動する権限がある旨の、偽証罪（米国法）"
        "の適用を承知したうえでの宣誓（512(c)(3)(A)(vi)）",
        "A statement, under penalty of perjury, of authority to act for the owner (512(c)(3)(A)(vi))",
    ),
    "req.dsa./grounds": (
        "違法であるとする理由の十分な説明（DSA 第 16 条 2 項 (a)）",
        "A sufficiently substantiated explanation why the information is illegal (DSA Art. 16(2)(a))",
    ),
    "req.dsa./material/locations": (
        "その情報の正確な電子的所在（DSA 第 16 条 2 項 (b)）",
        "The exact electronic location of the information (DSA Art. 16(2)(b))",
    ),
    "req.dsa./contact/name": (
        "申出者の氏名（DSA 第 16 条 2 項 (c)）",
        "The notifier's name (DSA Art. 16(2)(c))",
    ),
    "req.dsa./contact/email": (
        "申出者のメールアドレス（DSA 第 16 条 2 項 (c)）",
        "The notifier's email address (DSA Art. 16(2)(c))",
    ),
    "req.dsa./statements/good-faith": (
        "削除要請が正確かつ完全であると誠実に信じる旨の宣誓（DSA 第 16 条 2 項 (d)）",
        "A statement of bona fide belief that the notice is accurate and complete (DSA Art. 16(2)(d))",
    ),
    "req.jp-platform./contact/name": ("申出者の氏名", "The requester's name"),
    "req.jp-platform./contact/email": (
        "申出者の連絡先（事業者が判断を通知するためのメール・住所・電話のいずれか）",
        "A contact the operator can send its decision to: email, address or phone",
    ),
    "req.jp-platform./material/locations": ("侵害情報の所在", "Where the infringing information is"),
    "req.jp-platform./jp_platform/infringed_right": ("侵害されたとする権利", "The right infringed"),
    "req.jp-platform./jp_platform/reason": ("権利が侵害されたとする理由", "Why the right is infringed"),
    "req.no-fakes./subject/title": (
        "声や肖像を複製された本人（NO FAKES 法案の通知）",
        "The individual whose voice or likeness is replicated (NO FAKES Act notice)",
    ),
    "req.no-fakes./material/locations": (
        "デジタルレプリカとその所在（NO FAKES 法案の通知）",
        "The digital replica and where it is (NO FAKES Act notice)",
    ),
    "req.no-fakes./signature": (
        "署名（手書きまたは電子署名。NO FAKES 法案の通知）",
        "A physical or electronic signature (NO FAKES Act notice)",
    ),
    "req.no-fakes./contact/name": (
        "申出者の氏名（NO FAKES 法案の通知）",
        "The notifier's name (NO FAKES Act notice)",
    ),
    "req.no-fakes./contact/email": (
        "申出者への連絡先：メール・住所・電話のいずれか（NO FAKES 法案の通知）",
        "How to reach the notifier: email, address or phone (NO FAKES Act notice)",
    ),
    "req.no-fakes./statements/good-faith": (
        "許諾のない利用だと誠実に信じる旨の宣誓（NO FAKES 法案の通知）",
        "A good-faith statement that the use is not authorised (NO FAKES Act notice)",
    ),
    "req.no-fakes./statements/authority": (
        "本人のために行動する権限がある旨の宣誓（NO FAKES 法案の通知）",
        "A statement of authority to act for the individual (NO FAKES Act notice)",
    ),
    "takedown.grounds": ("違法であるとする理由", "Why it is unlawful"),
    "takedown.contact": ("連絡先（公開されません）", "Contact (not published)"),
    "contact.name": ("氏名", "Name"),
    "contact.email": ("メール", "Email"),
    "contact.address": ("住所", "Address"),
    "contact.phone": ("電話", "Phone"),
    "takedown.notify": (
        "状態が変わったときのお知らせ（任意・公開されません）",
        "Tell me when its state changes (optional, not published)",
    ),
    "takedown.notify_help": (
        "事業者が受領確認をしたとき、措置を講じたときなど、この削除要請の状態が変わるたびにレジストリが"
        "お知らせします。個人データを消去すると、お知らせも止まります。",
        "The registry tells you each time this notice changes state: when the operator acknowledges it, "
        "takes action, and so on. Erasing your personal data stops these messages.",
    ),
    "notify.email": ("お知らせを受けるメール", "Email for updates"),
    "notify.webhook": ("お知らせを受ける webhook の URL", "Webhook URL for updates"),
    "err.type.invalid-personal-part": (
        "個人データの欄（連絡先、お知らせの宛先）を受け付けられませんでした。お知らせの webhook には、"
        "インターネットから届く https の URL を入力してください。",
        "A personal field (contact, where to tell you) was not accepted. A webhook for updates must be "
        "an https URL reachable from the internet.",
    ),
    "takedown.signature": ("署名（氏名を入力）", "Signature (type your name)"),
    "takedown.statements": ("宣誓", "Statements"),
    "statement.good-faith": (
        "この利用は権利者に許諾されていないと、誠実に信じています。",
        "I believe in good faith that this use is not authorised.",
    ),
    "statement.accuracy": ("この削除要請の内容は正確です。", "The information in this notice is accurate."),
    "statement.authority-under-penalty-of-perjury": (
        "虚偽であれば偽証罪（米国法）に問われうることを承知のうえで、権利者のために行動する権限があることを"
        "誓います。",
        "Under penalty of perjury, I am authorised to act for the owner.",
    ),
    "statement.authority": (
        "本人のために行動する権限があります。",
        "I am authorised to act for the individual.",
    ),
    "takedown.jp": ("情報流通プラットフォーム対処法による送信防止措置の申出", "Japan platform act request"),
    "jp.infringed_right": ("侵害されたとする権利", "The right infringed"),
    "jp.reason": ("権利が侵害されたとする理由", "Why the right is infringed"),
    "takedown.sign": ("署名して提出", "Sign and file"),
    "takedown.filed": ("削除要請を提出しました", "Notice filed"),
    "takedown.already": (
        "この削除要請はすでに提出済みです。同じ文書を二重に提出することはありません。",
        "This notice was already filed; the same document is never filed twice.",
    ),
    "takedown.follow": ("経過を見る", "Follow it"),
    "takedown.held": (
        "この事業者はまだレジストリに登録していないため、削除要請は保留され、登録した時点で届けられます。",
        "This operator has not registered with the registry yet: the notice is held, and delivered "
        "when it registers.",
    ),
    "mine.title": ("このブラウザから提出した削除要請", "Notices filed from this browser"),
    "mine.changed": ("更新あり", "Updated"),
    "mine.changed_from": ("前回：{state}", "was: {state}"),
    "mine.untitled": ("（題名なし）", "(untitled)"),
    "mine.unavailable": ("状態を読み込めませんでした", "could not load its state"),
    "notice.locations": ("問題のあるものの所在", "Where the material is"),
    "notice.actions": ("求めた措置", "Actions asked for"),
    # notice page
    "notice.title": ("削除要請の経過", "Takedown notice status"),
    "notice.state": ("状態", "State"),
    "notice.operator": ("相手の事業者", "Operator"),
    "notice.deadlines": ("期限", "Deadlines"),
    "deadline.acknowledge_by": ("受領確認の期限", "Acknowledge by"),
    "deadline.decide_by": ("判断の期限", "Decide by"),
    "deadline.restore_not_before": ("復元は次の日時以降", "Not restored before"),
    "deadline.restore_by": ("復元の期限", "Restore by"),
    "notice.overdue": ("期限切れ", "Overdue"),
    "notice.events": ("経過", "History"),
    "notice.no_events": ("まだ何も起きていません。", "No steps yet."),
    "notice.changed": (
        "前回ご覧になったときから状態が変わりました：{before} → {after}",
        "Changed since you last looked: {before} → {after}",
    ),
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
    "notice.close": ("署名してこの削除要請を終える", "Sign and close this notice"),
    "notice.closable": (
        "判断が出ました。この削除要請を終えることができます。",
        "A decision was made; you may close the notice.",
    ),
    "notice.sent": ("送信しました。再読み込みします…", "Sent. Reloading…"),
    "state.filed": ("提出済み", "filed"),
    "state.delivered": ("配達済み", "delivered"),
    "state.acknowledged": ("受領確認済み", "acknowledged"),
    "state.actioned": ("措置済み", "actioned"),
    "state.rejected": ("措置しない判断", "rejected"),
    "state.counter-noticed": ("異議申立てあり", "counter-noticed"),
    "state.restored": ("復元", "restored"),
    "state.upheld": ("削除を維持", "upheld"),
    "state.closed": ("終了", "closed"),
    "event.deliver": ("事業者に届けました", "delivered to the operator"),
    "event.acknowledge": ("事業者が受領確認をしました", "the operator acknowledged it"),
    "event.action": ("事業者が措置を講じました", "the operator took action"),
    "event.reject": ("事業者が措置しないと判断しました", "the operator decided not to act"),
    "event.counter-notice": ("事業者が異議申立てを伝えました", "the operator relayed a counter-notice"),
    "event.restore": ("事業者が復元しました", "the operator restored the material"),
    "event.uphold": ("削除の維持が伝えられました", "the takedown was upheld"),
    "event.close": ("この削除要請は終了しました", "the notice was closed"),
    "event.unknown": ("記録された手続き", "a recorded step"),
    "event.remind": ("レジストリが期限を知らせました", "the registry sent a deadline reminder"),
    "party.notifier": ("申出者", "notifier"),
    "party.operator": ("事業者", "operator"),
    "party.registry": ("レジストリ", "registry"),
    "event.by": ("署名：{party}", "signed by the {party}"),
    "event.statement": ("説明", "Statement"),
    "event.actions_taken": ("講じた措置", "Actions taken"),
    # stats
    "stats.title": ("AI 事業者の対応状況", "How AI operators respond"),
    "stats.table": ("事業者ごとの件数と時間", "Counts and times per operator"),
    "stats.none": ("まだ削除要請はありません。", "No notices yet."),
    "stats.operator": ("事業者", "Operator"),
    "stats.received": ("受付", "Received"),
    "stats.acknowledged": ("受領確認", "Acknowledged"),
    "stats.actioned": ("措置", "Actioned"),
    "stats.rejected": ("措置せず", "Rejected"),
    "stats.overdue": ("期限切れ", "Overdue"),
    "stats.median_ack": ("受領確認までの時間（中央値）", "Median time to acknowledge"),
    "stats.chart": ("事業者ごとの削除要請の受付件数と措置件数", "Notices received and actioned per operator"),
    "stats.unregistered": ("未登録の事業者", "not a registered operator"),
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
}
