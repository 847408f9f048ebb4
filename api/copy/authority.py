"""Authority: the levels a claim or operator holds, the chain behind them, how they were checked."""

from __future__ import annotations

from typing import Final

AUTHORITY: Final[dict[str, tuple[str, str]]] = {
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
        "表明者が自分について申告しているだけで、第三者は確かめていません。",
        "The claimant speaks for itself; nobody else has confirmed it.",
    ),
    "authorityhelp.agent-asserted": (
        "代理人が本人のためと申告していますが、本人の委任状はログにありません。",
        "An agent says it acts for someone, but no mandate from that person is in the log.",
    ),
    "authorityhelp.mandated": (
        "本人が署名した委任状の範囲内で、代理人が提出しています。",
        "Filed by an agent within a mandate the principal signed.",
    ),
    "authorityhelp.attested": (
        "ドメイン確認済みの団体（組合・事務所・協会など）が、"
        "本人であること、または会員であることを証明しています。",
        "A domain-verified organisation (a union, an agency, an association) vouches for the person "
        "or their membership.",
    ),
    "authorityhelp.domain-verified": (
        "この URL のドメインを表明者（または委任した本人）が管理していることを、レジストリが確かめました。",
        "The registry checked that the claimant (or the principal who mandated it) controls this URL's "
        "domain.",
    ),
    "authority.base": ("基本の裏付け", "Base authority"),
    "authority.as_of": ("ログの記録件数 {n} 件の時点", "as of log size {n}"),
    "authority.chain": ("裏付けの根拠", "The chain behind it"),
    "authority.none": (
        "表明者自身の申告のほかに、裏付けはありません。",
        "Nothing beyond the claimant's own word.",
    ),
    "authority.unavailable": (
        "取り下げられた留保には、裏付けを示しません。",
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
        "「裏付け」は、その留保がどこまで確かめられているかを示します。"
        "自己申告だけの留保は、誰でも提出できます。",
        "Authority says how far a claim has been checked; anyone can file a self-asserted claim.",
    ),
}
