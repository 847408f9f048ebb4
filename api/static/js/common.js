// What every signing page shares: the current key's status, reading fields, filing a document, and
// the warning before leaving a page while a key that was never saved is in the tab.
import { canonicalize } from "./jcs.js";
import { currentKey, keySaved } from "./crypto.js";
import { t } from "./strings.js";

export { clearErrors, problemItems, showErrors, showKeyNeeded } from "./problems.js";

/** Show the key's DID (or that there is none) and return the key. Text only, never markup. */
export async function showKeyStatus() {
  const key = await currentKey();
  const did = document.getElementById("current-did");
  if (did) did.textContent = key ? key.did : did.dataset.none;
  const needs = document.getElementById("needs-key");
  if (needs) needs.hidden = Boolean(key);
  const unsaved = document.getElementById("key-unsaved");
  if (unsaved) unsaved.hidden = !key || keySaved();
  return key;
}

/** Lines of a textarea, trimmed, NFC (the registry refuses non-NFC strings), empty ones dropped. */
export function lines(id) {
  return numberedLines(id).map(([value]) => value);
}

/** [value, line number] of each non-empty line (numbers count from 1, blank lines included). */
export function numberedLines(id) {
  const element = document.getElementById(id);
  if (!element) return [];
  return element.value
    .split(/\r?\n/)
    .map((line, index) => [line.trim().normalize("NFC"), index + 1])
    .filter(([line]) => line);
}

export function text(id) {
  const element = document.getElementById(id);
  return element ? element.value.trim().normalize("NFC") : "";
}

/**
 * POST a signed document to the JSON API; resolves to [ok, body]. Problems come back as RFC 9457;
 * a request that never got an answer comes back as a problem of type "network".
 */
export async function file(url, signed) {
  let response;
  try {
    response = await fetch(url, {
      method: "POST",
      // English problems: problems.js recognises the registry's English and says it in the page's words.
      headers: { "Content-Type": "application/json", Accept: "application/json", "Accept-Language": "en" },
      body: canonicalize(signed),
      credentials: "omit",
    });
  } catch (error) {
    return [false, { type: "network", detail: String(error?.message || error) }];
  }
  let body = {};
  try {
    body = await response.json();
  } catch {
    body = { type: response.ok ? "" : "unknown", detail: `HTTP ${response.status}` };
  }
  return [response.ok, body];
}

export function downloadLink(anchor, textContent, filename) {
  const blob = new Blob([textContent], { type: "application/json" });
  anchor.href = URL.createObjectURL(blob);
  anchor.download = filename;
}

/** Ask before something that cannot be undone, in the page's words, in an accessible dialog. */
export function confirmDialog(question) {
  const dialog = document.getElementById("confirm-dialog");
  if (!dialog || typeof dialog.showModal !== "function") return Promise.resolve(window.confirm(question));
  dialog.querySelector("#confirm-question").textContent = question;
  return new Promise((resolve) => {
    const done = () => {
      dialog.removeEventListener("close", done);
      resolve(dialog.returnValue === "ok");
    };
    dialog.returnValue = "";
    dialog.addEventListener("close", done);
    dialog.showModal();
    dialog.querySelector("button[value=cancel]").focus();
  });
}

// Leaving (closing the tab, following a link, reloading) with a key that was never saved loses it:
// the browser asks first. A saved or passkey-protected key leaves no such warning.
window.addEventListener("beforeunload", (event) => {
  if (sessionStorage.getItem("kotowari.key") && !keySaved()) {
    event.preventDefault();
    event.returnValue = t("key.unload_warning");
  }
});
