"""The key page: what the key is, saving it, passkeys, recovery keys and rotation; key file errors."""

from __future__ import annotations

from typing import Final

KEYS: Final[dict[str, tuple[str, str]]] = {
    "keys.title": ("あなたの鍵", "Your key"),
    "keys.what_title": ("鍵とは", "What the key is"),
    "keys.what": (
        "鍵は、あなたが署名するための秘密のデータ（Ed25519 の秘密鍵）です。このブラウザの中で作られ、"
        "サーバーには送られません。留保や削除要請は、この鍵の署名によって「あなたが出したもの」と"
        "認められます。",
        "The key is the secret you sign with (an Ed25519 private key). It is made inside this browser "
        "and never sent to the server. Your signature with it is what makes a reservation or a "
        "takedown notice yours.",
    ),
    "keys.holder": (
        "鍵ファイルを持っている人は、誰でもあなたとして署名できます。他人に渡さず、メールやチャットで"
        "送らないでください。",
        "Whoever holds the key file can act as you. Do not give it to anyone, and do not send it by "
        "email or chat.",
    ),
    "keys.no_recovery": (
        "鍵をなくすと、レジストリにも取り戻す方法はありません。その鍵で署名した留保を取り下げることも"
        "できなくなります。前もって復旧用の鍵を指定しておけば、別の鍵に引き継げます。",
        "If you lose the key, nobody can give it back, not even the registry, and you can no longer "
        "withdraw what you signed with it — unless you named recovery keys in advance, which can hand "
        "your identity over to a new key.",
    ),
    "keys.generate": ("新しい鍵を作る", "Make a new key"),
    "keys.load": ("鍵ファイルを読み込む", "Load a key file"),
    "keys.download": ("鍵ファイルを保存", "Save the key file"),
    "keys.forget": ("このタブから鍵を消す", "Forget the key in this tab"),
    "keys.current": ("現在の ID (did:key)", "Current identity (did:key)"),
    "keys.none": ("鍵はまだありません。", "No key yet."),
    "keys.unsaved": (
        "この鍵はまだ保存されていません。鍵ファイルを保存するか、パスキーで保護してください。",
        "This key is not saved yet: save the key file, or protect it with a passkey.",
    ),
    "keys.saved": ("鍵ファイルを保存しました。", "The key file is saved."),
    "keys.made": (
        "新しい鍵を作りました。鍵ファイルを保存してください。",
        "A new key is made: save the key file.",
    ),
    "keys.loaded": ("鍵ファイルを読み込みました。", "The key file is loaded."),
    "keys.forgotten": ("このタブから鍵を消しました。", "The key is gone from this tab."),
    "keys.session": (
        "鍵はこのタブを閉じるまでブラウザ内（sessionStorage）に保持されます。コマンドラインの "
        "kotowari でも同じ鍵ファイルを使えます。",
        "The key stays in this tab (sessionStorage) until you close it. The same key file works with "
        "the kotowari command-line tool.",
    ),
    "keys.needed": ("先に鍵を作るか、読み込んでください。", "Make or load a key first."),
    "keys.needed_link": ("鍵のページへ", "Go to the key page"),
    "confirm.replace": (
        "今の鍵はまだ保存されていません。新しい鍵に置き換えると、今の鍵は失われ、その鍵で署名した留保を"
        "取り下げられなくなります。置き換えますか？",
        "The current key is not saved. Replacing it loses it for good, and with it the power to "
        "withdraw what you signed with it. Replace it?",
    ),
    "confirm.forget": (
        "今の鍵はまだ保存されていません。消すと元に戻せません。消しますか？",
        "The current key is not saved. Forgetting it cannot be undone. Forget it?",
    ),
    "key.unload_warning": (
        "保存していない鍵があります。このページを離れると、鍵は失われます。",
        "You have a key that is not saved. Leaving this page loses it.",
    ),
    # key file errors (the page says these; never a raw JavaScript error)
    "key.error.not_json": (
        "このファイルは鍵ファイルではありません（JSON として読めません）。"
        "「鍵ファイルを保存」で保存したファイルか、kotowari keys new で作ったファイルを選んでください。",
        "This file is not a key file (it is not JSON). Choose the file saved with “Save the key file” "
        "or made by kotowari keys new.",
    ),
    "key.error.not_key": (
        "このファイルは Ed25519 の鍵ファイルではありません。",
        "This file is not an Ed25519 key file.",
    ),
    "key.error.mismatch": (
        "この鍵ファイルは壊れています（公開鍵と秘密鍵が対応していません）。",
        "This key file is damaged: its public key does not belong to its private key.",
    ),
    "key.error.kid": (
        "この鍵ファイルに書かれた ID は、中の鍵のものではありません。",
        "The identity written in this key file is not the key's own.",
    ),
    "key.error.too_large": (
        "このファイルは大きすぎるため、鍵ファイルではありません。",
        "This file is too large to be a key file.",
    ),
    "key.error.unsupported": (
        "このブラウザは Ed25519 の署名に対応していません。新しい版の Chromium・Chrome・Edge・Firefox・Safari "
        "を使ってください。",
        "This browser cannot sign with Ed25519. Use a current Chromium, Chrome, Edge, Firefox or Safari.",
    ),
    # passkeys
    "passkey.title": ("パスキーで鍵を守る", "Protect the key with a passkey"),
    "passkey.intro": (
        "パスキー（指紋・顔認証・端末の PIN）で鍵を暗号化して保管できます。暗号化はこのブラウザの中で"
        "行い、暗号を解く鍵はパスキーからしか得られません。パスキーが同期される別の端末でも、"
        "同じパスキーで鍵を取り出せます。",
        "A passkey (fingerprint, face or device PIN) can encrypt your key for safekeeping. The "
        "encryption happens in this browser, and only the passkey can undo it; on another device where "
        "the passkey syncs, the same passkey unlocks the key.",
    ),
    "passkey.store_remote": (
        "暗号化した鍵をレジストリにも預ける（レジストリは暗号化されたものしか受け取りません）",
        "Also keep the encrypted key at the registry (it only ever receives the encrypted form)",
    ),
    "passkey.protect": ("パスキーで保護する", "Protect with a passkey"),
    "passkey.unlock": ("パスキーで鍵を取り出す", "Unlock with a passkey"),
    "passkey.protected": ("鍵をパスキーで保護しました。", "The key is protected with a passkey."),
    "passkey.protected_remote": (
        "鍵をパスキーで保護し、暗号化した鍵をレジストリに預けました。",
        "The key is protected with a passkey, and the encrypted key is kept at the registry.",
    ),
    "passkey.unlocked": ("パスキーで鍵を取り出しました。", "The key is unlocked with the passkey."),
    "passkey.unsupported": (
        "このブラウザか認証器は、鍵の保護に必要なパスキーの機能（PRF 拡張）に対応していません。"
        "鍵ファイルを保存してください。",
        "This browser or authenticator lacks the passkey feature needed to protect the key (the PRF "
        "extension). Save the key file instead.",
    ),
    "passkey.cancelled": ("パスキーの操作が取り消されました。", "The passkey request was cancelled."),
    "passkey.not_found": (
        "このパスキーで保護した鍵は、この端末にもレジストリにも見つかりません。",
        "No key protected with this passkey is on this device or at the registry.",
    ),
    "passkey.wrong": (
        "鍵を取り出せませんでした。保護したときとは別のパスキーのようです。",
        "The key could not be unlocked: this seems to be another passkey than the one that protected it.",
    ),
    "passkey.remote_failed": (
        "鍵はこの端末で保護しましたが、レジストリには預けられませんでした。",
        "The key is protected on this device, but the registry did not keep the encrypted copy.",
    ),
    # recovery keys and rotation
    "recovery.title": ("鍵をなくしたときのために（復旧用の鍵）", "If you lose the key: recovery keys"),
    "recovery.intro": (
        "信頼できる別の鍵（別の端末の鍵、所属事務所の鍵など）を復旧用の鍵として指定できます。"
        "鍵をなくしたとき、復旧用の鍵があなたの ID "
        "を新しい鍵に引き継げます。引き継ぎには公開の待機期間があり、"
        "その間はあなたの鍵で取り消せます。",
        "You can name other keys you trust (a key on another device, your agency's) as recovery keys. "
        "If you lose your key, a recovery key can hand your identity over to a new key, after a public "
        "waiting period during which your own key can still veto it.",
    ),
    "recovery.keys": (
        "復旧用の鍵の DID（1 行に 1 つ、最大 5 つ）",
        "Recovery keys' DIDs (one per line, at most 5)",
    ),
    "recovery.days": ("待機期間（日数、1〜90）", "Waiting period (days, 1–90)"),
    "recovery.sign": ("署名して復旧用の鍵を指定", "Sign and name the recovery keys"),
    "recovery.current": ("指定済みの復旧用の鍵", "Recovery keys named"),
    "recovery.none": ("復旧用の鍵はまだ指定されていません。", "No recovery keys are named yet."),
    "recovery.done": ("復旧用の鍵を指定しました。", "The recovery keys are named."),
    "recovery.cli": (
        "復旧の手続き（引き継ぎの依頼・取り消し・完了）は、"
        "コマンドラインの kotowari keys recover で行えます。",
        "The recovery itself (request, veto, completion) is done with kotowari keys recover on the "
        "command line.",
    ),
    "rotate.title": ("鍵の交換", "Key rotation"),
    "rotate.intro": (
        "今の鍵が漏れたかもしれないときは、新しい鍵への鍵の交換ができます。新しい鍵があなたの ID を引き継ぎ、"
        "今の鍵ではそれ以降何も署名できなくなります。",
        "If your key may have leaked, rotate it: a new key takes over your identity, and the current "
        "key can sign nothing more.",
    ),
    "rotate.sign": ("新しい鍵を作って鍵の交換をする", "Make a new key and rotate to it"),
    "rotate.done": (
        "鍵を交換しました。新しい鍵ファイルを保存してください。",
        "The key is rotated: save the new key file.",
    ),
    "confirm.rotate": (
        "今の鍵を新しい鍵に交換します。交換は公開され、今の鍵ではもう署名できなくなります。続けますか？",
        "This rotates the current key to a new one, publicly; the current key will sign nothing more. Go on?",
    ),
}
