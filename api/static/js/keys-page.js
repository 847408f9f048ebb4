// The key page: make, load, save and forget the key (asking before an unsaved key is lost), protect
// it with a passkey, name recovery keys, rotate it. Every message is the catalog's, never a raw error.
import {
  KeyFileError, forgetKey, generateKey, keySaved, markKeySaved, readKeyFile, rememberKey, signDocument,
} from "./crypto.js";
import { confirmDialog, downloadLink, file, numberedLines, showKeyStatus, text } from "./common.js";
import { didProblem } from "./checks.js";
import { clearErrors, item, problemItems, showErrors, showKeyNeeded } from "./problems.js";
import { Intent, fetchJson, guard } from "./submit.js";
import { PasskeyError, protect, unlock } from "./passkey.js";
import { t } from "./strings.js";

const message = document.getElementById("key-message");
const download = document.getElementById("download-key");
const forget = document.getElementById("forget-key");
const protectButton = document.getElementById("passkey-protect");
const rotateButton = document.getElementById("rotate-key");

function say(element, words, kind = "ok") {
  element.textContent = words;
  element.dataset.kind = kind;
}

async function refresh() {
  const key = await showKeyStatus();
  download.disabled = forget.disabled = protectButton.disabled = rotateButton.disabled = !key;
  await showRecovery(key);
  return key;
}

function save(key) {
  const anchor = document.createElement("a");
  downloadLink(anchor, key.keyFile(), "kotowari.key");
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
  markKeySaved();
}

/** Before a key that was never saved is replaced or dropped: ask, saying what would be lost. A saved
 * key (a file, a passkey) can be replaced without asking: it is not lost. */
async function mayLoseCurrent(question) {
  if (keySaved()) return true;
  return confirmDialog(t(question));
}

document.getElementById("generate-key").addEventListener("click", async () => {
  if (!(await mayLoseCurrent("confirm.replace"))) return;
  try {
    const key = await generateKey();
    rememberKey(key, { saved: false });
    say(message, t("keys.made"));
    await refresh();
  } catch (error) {
    say(message, t(error instanceof KeyFileError ? `key.error.${error.code}` : "key.error.unsupported"), "error");
  }
});

download.addEventListener("click", async () => {
  const key = await showKeyStatus();
  if (!key) return;
  save(key);
  say(message, t("keys.saved"));
  await refresh();
});

const loader = document.getElementById("load-key");
loader.addEventListener("change", async () => {
  const [chosen] = loader.files;
  loader.value = "";
  if (!chosen) return;
  if (!(await mayLoseCurrent("confirm.replace"))) return;
  try {
    const key = await readKeyFile(await chosen.text());
    rememberKey(key, { saved: true });
    say(message, t("keys.loaded"));
    await refresh();
  } catch (error) {
    const code = error instanceof KeyFileError ? error.code : "not_key";
    say(message, t(`key.error.${code}`), "error");
  }
});

forget.addEventListener("click", async () => {
  if (!keySaved() && !(await confirmDialog(t("confirm.forget")))) return;
  forgetKey();
  say(message, t("keys.forgotten"));
  await refresh();
});

// ---------------------------------------------------------------- passkeys

const passkeyMessage = document.getElementById("passkey-message");

protectButton.addEventListener("click", async () => {
  const key = await showKeyStatus();
  if (!key) return;
  protectButton.disabled = true;
  try {
    const result = await protect(key, { remote: document.getElementById("passkey-remote").checked });
    markKeySaved();
    passkeyMessage.dataset.credential = result.credentialId;
    if (result.remote === false) say(passkeyMessage, t("passkey.remote_failed"), "error");
    else say(passkeyMessage, t(result.remote ? "passkey.protected_remote" : "passkey.protected"));
    await refresh();
  } catch (error) {
    say(passkeyMessage, t(`passkey.${error instanceof PasskeyError ? error.code : "unsupported"}`), "error");
  } finally {
    protectButton.disabled = false;
  }
});

document.getElementById("passkey-unlock").addEventListener("click", async () => {
  if (!(await mayLoseCurrent("confirm.replace"))) return;
  try {
    const key = await unlock();
    rememberKey(key, { saved: true });
    say(passkeyMessage, t("passkey.unlocked"));
    await refresh();
  } catch (error) {
    const code = error instanceof PasskeyError ? error.code : error instanceof KeyFileError ? "wrong" : "unsupported";
    say(passkeyMessage, t(`passkey.${code}`), "error");
  }
});

// ---------------------------------------------------------------- recovery keys and rotation

async function showRecovery(key) {
  const box = document.getElementById("recovery-current");
  if (!key) {
    box.hidden = true;
    return;
  }
  const described = await fetchJson(`/v1/authority/${encodeURIComponent(key.did)}`);
  const recovery = described?.recovery;
  const list = document.getElementById("recovery-list");
  list.replaceChildren(...(recovery?.recovery_keys || []).map((did) => {
    const entry = document.createElement("li");
    const code = document.createElement("code");
    code.textContent = did;
    entry.append(code);
    return entry;
  }));
  document.getElementById("recovery-none").hidden = Boolean(recovery);
  box.hidden = false;
}

const recoveryForm = document.getElementById("recovery-form");
const recoveryIntent = new Intent();
guard(recoveryForm, document.getElementById("recovery-sign"), async () => {
  clearErrors();
  const key = await showKeyStatus();
  const map = [
    { prefix: "/recovery_keys", field: "recovery-keys" },
    { prefix: "/waiting_period_days", field: "recovery-days" },
  ];
  if (!key) {
    showKeyNeeded();
    return;
  }
  const dids = numberedLines("recovery-keys").map(([value]) => value);
  const days = Number(text("recovery-days"));
  const problems = [];
  if (!dids.length || dids.length > 5 || new Set(dids).size !== dids.length || dids.includes(key.did) || dids.some(didProblem)) {
    problems.push(["/recovery_keys", "recovery_keys", {}]);
  }
  if (!Number.isInteger(days) || days < 1 || days > 90) problems.push(["/waiting_period_days", "recovery_days", {}]);
  if (problems.length) {
    showErrors(problems.map(([pointer, code, values]) => item(pointer, code, values, map)));
    return;
  }
  const unsigned = { type: "RecoveryKeys", did: key.did, recovery_keys: dids, waiting_period_days: days };
  const signed = await recoveryIntent.sign(key.did, unsigned, (doc, created) => signDocument(doc, key, created));
  const [ok, body] = await file("/v1/authority", signed);
  if (!ok && !String(body.type || "").endsWith("nonce-reused")) {
    showErrors(problemItems(body, map));
    return;
  }
  say(document.getElementById("recovery-message"), t("recovery.done"));
  await showRecovery(key);
});

rotateButton.addEventListener("click", async () => {
  const old = await showKeyStatus();
  const said = document.getElementById("rotate-message");
  if (!old || !(await confirmDialog(t("confirm.rotate")))) return;
  rotateButton.disabled = true;
  try {
    const successor = await generateKey();
    const created = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
    const nonce = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
    const rotation = { type: "KeyRotation", did: old.did, successor: successor.did, created, nonce };
    const [ok, body] = await file("/v1/authority", await signDocument(rotation, old, created));
    if (!ok) {
      say(said, problemItems(body).map((shown) => shown.text).join(" "), "error");
      return;
    }
    rememberKey(successor, { saved: false });
    say(said, t("rotate.done"));
    await refresh();
  } finally {
    rotateButton.disabled = false;
  }
});

refresh();
