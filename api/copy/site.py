"""Site-wide words: the name, the menu, the home page, error pages, the confirmation dialog."""

from __future__ import annotations

from typing import Final

SITE: Final[dict[str, tuple[str, str]]] = {
    # (日本語, English)
    "site.name": ("断り — AI 利用の留保レジストリ", "Kotowari — AI opt-out registry"),
    "site.tagline": (
        "作品・声・肖像を AI の学習と生成に使わせないための、署名付きの留保と削除要請のレジストリです。",
        "A registry of signed reservations and takedown notices that keep works, voices and likenesses "
        "out of AI training and generation.",
    ),
    "nav.label": ("メインメニュー", "Main menu"),
    "nav.home": ("ホーム", "Home"),
    "nav.keys": ("鍵", "Key"),
    "nav.reserve": ("留保する", "Reserve"),
    "nav.takedown": ("削除要請", "Takedown notice"),
    "nav.lookup": ("検索", "Look up"),
    "nav.stats": ("事業者の対応状況", "Operators"),
    "lang.switch": ("言語", "Language"),
    "lang.ja": ("日本語", "日本語"),
    "lang.en": ("English", "English"),
    "skip": ("本文へ移動", "Skip to content"),
    "js.required": (
        "このページの署名はブラウザ内の JavaScript で行います。JavaScript を有効にしてください。",
        "Signing happens in your browser with JavaScript; please enable JavaScript for this page.",
    ),
    "home.title": ("はじめに", "Start here"),
    "home.step1": (
        "鍵を作るか、お持ちの鍵を読み込みます。鍵はこのブラウザから外に出ません。",
        "Make a key (or load yours). It never leaves this browser.",
    ),
    "home.step2": (
        "作品・声・肖像について AI に使わせない利用を選び、署名して留保を提出します。",
        "Sign and file a reservation for a work, voice or likeness.",
    ),
    "home.step3": (
        "それでも使われたら、AI 事業者に削除要請を出し、その後の経過を確かめられます。",
        "If it is used anyway, file a takedown notice with the AI operator and follow it.",
    ),
    "home.step4": (
        "どなたでも留保を検索し、透明性ログと照らし合わせて確かめられます。",
        "Anyone can look reservations up and check them against the transparency log.",
    ),
    "public.warning": (
        "署名して提出した文書は公開され、透明性ログに永久に残ります。取り下げても、取り下げた記録が"
        "加わるだけで、元の記録は消えません。",
        "What you sign and file is public and permanent: it goes into the transparency log, and "
        "withdrawing it adds a record beside it without erasing it.",
    ),
    "error.title": ("エラー", "Error"),
    "error.not_found": ("見つかりません。", "Not found."),
    "error.csrf": (
        "フォームの確認に失敗しました。ページを読み込み直してから、もう一度送信してください。",
        "The form could not be verified. Reload the page and send it again.",
    ),
    "error.back": ("ホームに戻る", "Back to the start"),
    "errors.title": ("次の点を直してください", "Please fix the following"),
    "confirm.ok": ("続ける", "Continue"),
    "confirm.cancel": ("やめる", "Cancel"),
    "confirm.title": ("確認", "Please confirm"),
    "busy.signing": ("署名して提出しています…", "Signing and filing…"),
    "hours": ("時間", "hours"),
    "duration.none": ("—", "—"),
    "duration.none_label": ("データなし", "no data"),
    "duration.under_minute": ("1 分未満", "under a minute"),
    "duration.minutes": ("{n} 分", "{n} min"),
    "duration.hours": ("{n} 時間", "{n} h"),
    "duration.days": ("{n} 日", "{n} days"),
}
