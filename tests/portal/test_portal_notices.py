"""Part 5, notices: the operator is picked by name, with its authority and domain beside it; the notice
page names the operator; "my notices" lists what this browser filed with titles and states; a state
that changed since the creator last looked is flagged on return, and the history says each step in
the page's language."""

from __future__ import annotations

import secrets

import keys
from tests.portal.harness import Portal
from tests.portal.helpers import load_key, register_operator, respond


def test_a_notice_is_filed_to_an_operator_picked_by_name_and_followed(portal: Portal) -> None:
    name = f"Acme 生成AI {secrets.token_hex(2)}"
    operator = register_operator(portal.base_url, name)
    portal.goto("/takedown")
    load_key(portal, keys.SigningKey.generate())
    portal.page.reload()
    labels = portal.page.locator("#operator-pick option").all_text_contents()
    label = next(text for text in labels if text.endswith(name))  # authority first, then the name
    assert portal.t("authority.self-asserted") in label and portal.t("operator.unverified") in label
    portal.page.select_option("#operator-pick", label=label)
    assert portal.page.input_value("#operator") == operator.did
    standing = portal.page.text_content("#operator-standing") or ""
    assert portal.t("takedown.operator_unverified") in standing and name in standing
    portal.check("takedown-operator-picked")
    title = f"星降る夜 {secrets.token_hex(2)}"
    portal.page.fill("#subject-title", title)
    portal.page.fill("#subject-urls", "https://me.example/works/")
    portal.page.fill("#loc-urls", "https://models.example.com/acme/painter")
    portal.page.fill("#contact-name", "山田 花子")
    portal.page.fill("#contact-email", "hanako@example.jp")
    portal.page.fill("#jp-right", "著作権（複製権）")
    portal.page.fill("#jp-reason", "無断で学習に使われたため")
    portal.page.click("#sign-notice")
    portal.page.wait_for_selector("#filed:not([hidden])")
    notice = portal.page.text_content("#filed-id") or ""
    mine = f"#my-notices li[data-notice='{notice}']"
    portal.page.wait_for_selector(f"{mine} .state")
    entry = portal.page.text_content(mine) or ""
    assert title in entry and portal.t("state.filed") in entry and name in entry
    portal.check("takedown-filed-mine")

    portal.goto(f"/notices/{notice}")
    assert portal.page.text_content("#notice-operator-name") == name
    assert portal.page.text_content("#notice-title") == title
    assert portal.page.is_hidden("#notice-changed")
    assert "山田" not in (portal.page.text_content("main") or ""), "personal data is not on the public page"
    portal.check("notice-filed")

    # The operator acts while the creator is away; on return, the change is flagged.
    respond(portal.base_url, operator, notice, "acknowledge")
    respond(portal.base_url, operator, notice, "action", actions_taken=["remove"])
    portal.goto("/takedown")
    portal.page.wait_for_selector(f"{mine}[data-changed=true]")
    entry = portal.page.text_content(mine) or ""
    assert portal.t("mine.changed") in entry and portal.t("state.actioned") in entry
    assert portal.t("state.filed") in entry  # what it was when last seen here
    portal.check("takedown-mine-changed")
    portal.page.click(f"{mine} a")
    portal.page.wait_for_selector("#notice-changed:not([hidden])")
    changed = portal.page.text_content("#notice-changed") or ""
    assert portal.t("state.filed") in changed and portal.t("state.actioned") in changed
    history = portal.page.text_content("#notice-events") or ""
    assert portal.t("event.acknowledge") in history and portal.t("event.action") in history
    assert portal.t("action.remove") in history
    times = portal.page.locator("#notice-events time")
    assert times.first.get_attribute("data-local") == "true"
    portal.check("notice-actioned")
    # Seen now: no flag the next time.
    portal.goto("/takedown")
    portal.page.wait_for_selector(f"{mine} .state")
    assert portal.page.get_attribute(mine, "data-changed") is None
