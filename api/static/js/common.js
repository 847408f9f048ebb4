// What every signing page shares: the current key's status, errors shown as text, filing a document.
import { canonicalize } from "./jcs.js";
import { currentKey } from "./crypto.js";

/** Show the key's DID (or that there is none) and return the key. Text only, never markup. */
export async function showKeyStatus() {
  const key = await currentKey();
  const did = document.getElementById("current-did");
  if (did) did.textContent = key ? key.did : did.dataset.none;
  const needs = document.getElementById("needs-key");
  if (needs) needs.hidden = Boolean(key);
  return key;
}

/** Lines of a textarea, trimmed, NFC (the registry refuses non-NFC strings), empty ones dropped. */
export function lines(id) {
  const element = document.getElementById(id);
  if (!element) return [];
  return element.value.split(/\r?\n/).map((line) => line.trim().normalize("NFC")).filter(Boolean);
}

export function text(id) {
  const element = document.getElementById(id);
  return element ? element.value.trim().normalize("NFC") : "";
}

/** List problems under the form and mark the fields they point at; cleared with `clearErrors`. */
export function showErrors(messages, pointers = []) {
  const box = document.getElementById("form-errors");
  const list = box.querySelector("ul");
  list.replaceChildren(...messages.map((message) => {
    const item = document.createElement("li");
    item.textContent = message;
    return item;
  }));
  box.hidden = messages.length === 0;
  for (const pointer of pointers) {
    for (const field of document.querySelectorAll(`[data-pointer="${CSS.escape(pointer)}"]`)) {
      field.setAttribute("aria-invalid", "true");
    }
  }
  if (messages.length) box.focus?.();
}

export function clearErrors() {
  showErrors([]);
  for (const field of document.querySelectorAll("[aria-invalid]")) field.removeAttribute("aria-invalid");
}

/** POST a signed document to the JSON API; resolves to [ok, body]. Problems come back as RFC 9457. */
export async function file(url, signed) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: canonicalize(signed),
    credentials: "omit",
  });
  let body = {};
  try {
    body = await response.json();
  } catch {
    body = { detail: `HTTP ${response.status}` };
  }
  return [response.ok, body];
}

/** The label of the field a JSON pointer names (or of its closest parent), as "Label: ", else "". */
function fieldName(pointer) {
  for (let path = pointer || ""; path; path = path.slice(0, path.lastIndexOf("/"))) {
    const label = document.querySelector(`label[data-pointer="${CSS.escape(path)}"], fieldset[data-pointer="${CSS.escape(path)}"] > legend`);
    if (label) return `${label.textContent.trim()}: `;
  }
  return "";
}

/** The problem's messages and pointers, for showErrors. */
export function problemMessages(problem) {
  const errors = Array.isArray(problem.errors) ? problem.errors : [];
  const messages = errors.length
    ? errors.map((e) => `${fieldName(e.pointer)}${e.pointer || ""} ${e.detail || ""}`.trim())
    : [String(problem.detail || problem.title || "error")];
  return [messages, errors.map((e) => e.pointer).filter(Boolean)];
}

export function downloadLink(anchor, textContent, filename) {
  const blob = new Blob([textContent], { type: "application/json" });
  anchor.href = URL.createObjectURL(blob);
  anchor.download = filename;
}
