import { signDocument, timestamp, newNonce } from "./crypto.js";
import { clearErrors, file, problemMessages, showErrors, showKeyStatus, text } from "./common.js";

const form = document.getElementById("respond-form");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors();
  const key = await showKeyStatus();
  if (!key) return;
  const action = form.dataset.action;
  const notice = form.dataset.notice;
  const doc = { type: "NoticeResponse", by: key.did, notice, action, created: timestamp(), nonce: newNonce() };
  if (action === "uphold") {
    doc.statement = text("respond-statement");
    doc.legal_action = true;
  }
  const [ok, body] = await file(`/v1/notices/${encodeURIComponent(notice)}/responses`, await signDocument(doc, key));
  if (!ok) {
    showErrors(...problemMessages(body));
    return;
  }
  document.getElementById("respond-message").hidden = false;
  window.location.reload();
});

showKeyStatus();
