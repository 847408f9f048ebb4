// A notice's page: say whether its state changed since this browser last looked, and let the
// notifier answer a counter-notice or close a decided notice (signed here, once per intent).
import { signDocument } from "./crypto.js";
import { clearErrors, file, showKeyStatus, text } from "./common.js";
import { item, problemItems, showErrors, showKeyNeeded } from "./problems.js";
import { Intent, guard, problemSlug } from "./submit.js";
import { markSeen, mine } from "./mine.js";
import { t } from "./strings.js";

const stateElement = document.getElementById("notice-state");
const noticeId = stateElement.dataset.notice;
const state = stateElement.dataset.state;
if (mine().includes(noticeId)) {
  const before = markSeen(noticeId, state);
  const changed = document.getElementById("notice-changed");
  if (before && before !== state && changed) {
    changed.textContent = changed.dataset.template
      .replace("{before}", t(`state.${before}`)).replace("{after}", t(`state.${state}`));
    changed.hidden = false;
  }
}

const form = document.getElementById("respond-form");
if (form) {
  const intent = new Intent();
  const map = [{ prefix: "/statement", field: "respond-statement" }];
  guard(form, form.querySelector("button[type=submit]"), async () => {
    clearErrors();
    const key = await showKeyStatus();
    if (!key) {
      showKeyNeeded();
      return;
    }
    const action = form.dataset.action;
    const notice = form.dataset.notice;
    const unsigned = { type: "NoticeResponse", by: key.did, notice, action };
    if (action === "uphold") {
      if (!text("respond-statement")) {
        showErrors([item("/statement", "statement_required", {}, map)]);
        return;
      }
      unsigned.statement = text("respond-statement");
      unsigned.legal_action = true;
    }
    const signed = await intent.sign(key.did, unsigned, (doc, created) => signDocument(doc, key, created));
    const [ok, body] = await file(`/v1/notices/${encodeURIComponent(notice)}/responses`, signed);
    if (ok || problemSlug(body) === "nonce-reused") {
      document.getElementById("respond-message").hidden = false;
      window.location.reload();
      return;
    }
    showErrors(problemItems(body, map));
  });
  showKeyStatus();
}
