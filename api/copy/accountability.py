"""Operators' public records: the ranked list, one operator's record, its disclosures, information
requests and repeat findings. Words per `api.glossary` (事業者, 削除要請, 受領確認, 措置, 異議申立て,
ログ); a disclosure is 開示, an information request 情報提供の求め, a requesting authority 当局."""

from __future__ import annotations

from typing import Final

ACCOUNTABILITY: Final[dict[str, tuple[str, str]]] = {
    "ranking.title": ("事業者の公開記録", "Operators' public records"),
    "stats.records": (
        "事業者ごとの公開記録（開示、情報提供の求め、繰り返しの指摘）と順位",
        "Each operator's public record (disclosures, information requests, repeat findings) and rankings",
    ),
    "ranking.intro": (
        "すべての数字は透明性ログだけから計算しています。ログの記録件数 {n} 件の時点、{at} の期限判定です。"
        "ログのタイルを読めば、誰でも同じ数字を計算し直せます。",
        "Every number is computed from the transparency log alone: at log size {n}, deadlines judged at "
        "{at}. Anyone who reads the log's tiles can compute the same numbers again.",
    ),
    "ranking.sort": ("並べ方", "Order"),
    "ranking.sort.overdue": ("期限超過の多い順", "Most overdue first"),
    "ranking.sort.repeats": ("繰り返しの指摘の多い順", "Most repeat findings first"),
    "ranking.exports": ("データ（JSON・CSV）", "Data (JSON, CSV)"),
    "ranking.none": ("ログにはまだ事業者の記録がありません。", "The log holds no operator's record yet."),
    "ranking.table": ("事業者ごとの記録", "Each operator's record"),
    "ranking.rank": ("順位", "Rank"),
    "ranking.operator": ("事業者", "Operator"),
    "ranking.unregistered": ("未登録の事業者", "Unregistered operator"),
    "record.title": ("事業者の公開記録", "An operator's public record"),
    "record.intro": (
        "この記録は透明性ログだけから計算しています。ログの記録件数 {n} 件の時点、{at} の期限判定です。",
        "This record is computed from the transparency log alone: at log size {n}, deadlines judged at {at}.",
    ),
    "record.identity": ("事業者の確認状況", "Who this operator is"),
    "record.registered_at": ("登録日時", "Registered"),
    "record.not_registered": (
        "この事業者は登録していません。宛てられた削除要請は保留されています。",
        "This operator has not registered; notices sent to it are held.",
    ),
    "record.verified_hosts": ("確認済みのドメイン", "Verified domains"),
    "record.designated": (
        "レジストリの管理者が当局として指定しています。",
        "Designated as a public authority.",
    ),
    "record.exports": (
        "この記録のデータ（JSON・削除要請の CSV）",
        "This record's data (JSON, notices as CSV)",
    ),
    "record.disclosures": ("開示", "Disclosures"),
    "record.disclosures_none": ("開示はまだありません。", "No disclosure yet."),
    "record.superseded": (
        "以前の開示（ログに残っています）：{n} 件",
        "Earlier disclosures (kept in the log): {n}",
    ),
    "record.subject.model": ("モデル", "Model"),
    "record.subject.service": ("サービス", "Service"),
    "record.filed_at": ("提出日時", "Filed"),
    "record.signals": ("クローラーが尊重する機械可読の意思表示", "Opt-out signals its crawlers honour"),
    "record.datasets": ("学習データ", "Training data"),
    "record.manifests": ("根拠とするコンプライアンス・マニフェスト", "Compliance manifests relied on"),
    "record.manifest_submitted": ("レジストリが検証済み", "verified by the registry"),
    "record.manifest_missing": ("まだ提出されていません", "not submitted yet"),
    "record.snapshot_in_log": ("このログのチェックポイントです", "a checkpoint of this log"),
    "record.snapshot_not_in_log": (
        "このログのチェックポイントではありません",
        "not a checkpoint of this log",
    ),
    "record.safeguards": ("生成時の安全策", "Safeguards"),
    "record.stage.prompt": ("プロンプト", "Prompt"),
    "record.stage.reference-input": ("参照入力", "Reference input"),
    "record.stage.output": ("出力", "Output"),
    "record.stage.training-data": ("学習前のデータ", "Data before training"),
    "record.contact": ("権利者向けの窓口", "Contact window for rights holders"),
    "record.principles": ("プリンシプル・コードへの対応", "AI Principle Code"),
    "record.comply": ("実施", "Comply"),
    "record.explain": ("説明（実施しない理由）", "Explain"),
    "record.notices": ("削除要請", "Takedown notices"),
    "record.received": ("受け取った件数", "Received"),
    "record.acknowledged": ("受領確認", "Acknowledged"),
    "record.on_time": ("期限内の対応", "Answered on time"),
    "record.late": ("期限後の対応", "Answered late"),
    "record.overdue": ("期限超過", "Overdue"),
    "record.actioned": ("措置済み", "Actioned"),
    "record.rejected": ("措置しない判断", "Rejected"),
    "record.counter_noticed": ("異議申立て", "Counter-notices"),
    "record.actions_taken": ("取った措置", "Actions taken"),
    "record.rejections": ("措置しない判断とその理由", "Rejections and their statements of reasons"),
    "record.counter_notices": ("異議申立てとその内容", "Counter-notices and what they say"),
    "record.none": ("ありません。", "None."),
    "record.repeats": ("繰り返しの指摘", "Repeat findings"),
    "record.repeat.same-subject-after-action": (
        "事業者が措置を取った後に、同じ対象について再び削除要請を受けました",
        "The same subject reached this operator again after it had acted",
    ),
    "record.repeat.several-upheld-for-model": (
        "同じモデルについて、複数の削除要請が認められました",
        "Several upheld notices for one model",
    ),
    "record.requests": ("当局からの情報提供の求め", "Information requests from public authorities"),
    "record.deadline": ("期限", "Deadline"),
    "record.request.answered": ("期限内に回答", "answered on time"),
    "record.request.answered-late": ("期限後に回答", "answered late"),
    "record.request.overdue": ("期限超過（未回答）", "overdue (no answer)"),
    "record.request.open": ("回答待ち", "awaiting an answer"),
    "record.answer": ("事業者の回答", "The operator's answer"),
}
