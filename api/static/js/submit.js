// One submission per intent.
//
// `guard` runs a form's handler at most once at a time: the button is disabled (and aria-busy) from
// the first tap until the registry has answered, so a double tap, or Enter pressed twice, files once.
// `Intent` signs the document for one form state once: while the form is unchanged, a retry sends the
// very same signed document (same `created`, same `nonce`), which the registry recognises as a replay
// (409 nonce-reused) instead of filing a twin; the page then shows the filing that already exists.
import { canonicalize, canonicalBytes } from "./jcs.js";
import { hex, newNonce, sha256, timestamp } from "./crypto.js";
import { showErrors } from "./problems.js";
import { t } from "./strings.js";

const MAX_AGE_MS = 10 * 60 * 1000; // well inside the registry's clock window

export function guard(form, button, handler) {
  let busy = false;
  const status = document.createElement("span");
  status.className = "busy";
  status.setAttribute("role", "status");
  button.after(status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (busy) return;
    busy = true;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    form.setAttribute("aria-busy", "true");
    status.textContent = t("busy.signing");
    try {
      await handler();
    } catch (error) {
      showErrors([{ pointer: null, field: null, label: "", text: t("err.sign_failed"), detail: String(error?.message || error) }]);
    } finally {
      busy = false;
      button.disabled = false;
      button.removeAttribute("aria-busy");
      form.removeAttribute("aria-busy");
      status.textContent = "";
    }
  });
}

export class Intent {
  constructor() {
    this.last = null;
  }

  /**
   * The signed form of `unsigned` (a document without `created` and `nonce`) by `did`: the one signed
   * before if nothing changed since, else `sign({...unsigned, created, nonce}, created)` anew.
   */
  async sign(did, unsigned, sign) {
    const fingerprint = `${did}\n${canonicalize(unsigned)}`;
    if (this.last && this.last.fingerprint === fingerprint && Date.now() - this.last.at < MAX_AGE_MS) {
      return this.last.value;
    }
    const created = timestamp();
    const value = await sign({ ...unsigned, created, nonce: newNonce() }, created);
    this.last = { fingerprint, at: Date.now(), value };
    return value;
  }

  /** Sign afresh next time (the registry refused the time, or the filing is done with). */
  forget() {
    this.last = null;
  }
}

/** A document's id as the registry computes it: SHA-256 of its canonical form, proof included. */
export async function documentId(signed) {
  return hex(await sha256(canonicalBytes(signed)));
}

export function problemSlug(body) {
  return String(body?.type || "").split("/").pop();
}

/** GET a JSON resource of the registry; null when it is not there (or unreachable). */
export async function fetchJson(url) {
  try {
    const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "omit" });
    return response.ok ? await response.json() : null;
  } catch {
    return null;
  }
}
