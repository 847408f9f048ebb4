// Protect the signing key with a passkey (WebAuthn PRF extension), entirely in this browser.
//
// The passkey evaluates its PRF on a fixed input; HKDF-SHA256 (random salt) turns that output into an
// AES-256-GCM key, which encrypts the key file (the DID bound in as additional data). The result is
// kept in this browser's localStorage and, if the creator wants, at the registry
// (PUT /v1/key-backups/{credential id}, signed by the key itself): only ciphertext ever leaves. On
// another device where the passkey syncs, the same passkey gives the same PRF output and unlocks it.
import { base64urlDecode, base64urlEncode, readKeyFile, sha256, signDocument } from "./crypto.js";
import { canonicalize } from "./jcs.js";

const LOCAL = "kotowari.passkey.backups";
const INFO = new TextEncoder().encode("kotowari key wrap v1 A256GCM");

/** Why a passkey step failed: `code` names the catalog entry passkey.{code}. */
export class PasskeyError extends Error {
  constructor(code, detail = "") {
    super(detail || code);
    this.code = code;
  }
}

function random(length) {
  return crypto.getRandomValues(new Uint8Array(length));
}

async function prfInput() {
  return sha256(new TextEncoder().encode("kotowari/key-wrap/v1"));
}

function aad(did) {
  return new TextEncoder().encode(`kotowari-key-backup-v1\n${did}`);
}

async function aesKey(prfOutput, salt) {
  const material = await crypto.subtle.importKey("raw", prfOutput, "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt, info: INFO }, material, { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"],
  );
}

export async function wrap(key, prfOutput, input) {
  const salt = random(32);
  const iv = random(12);
  const ciphertext = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: aad(key.did) }, await aesKey(prfOutput, salt), new TextEncoder().encode(key.keyFile()),
  );
  return {
    v: 1, alg: "A256GCM", kdf: "HKDF-SHA256",
    salt: base64urlEncode(salt), iv: base64urlEncode(iv), prf_salt: base64urlEncode(input),
    ciphertext: base64urlEncode(new Uint8Array(ciphertext)),
  };
}

export async function unwrap(wrapped, did, prfOutput) {
  let plain;
  try {
    plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: base64urlDecode(wrapped.iv), additionalData: aad(did) },
      await aesKey(prfOutput, base64urlDecode(wrapped.salt)),
      base64urlDecode(wrapped.ciphertext),
    );
  } catch {
    throw new PasskeyError("wrong");
  }
  const key = await readKeyFile(new TextDecoder().decode(plain));
  if (key.did !== did) throw new PasskeyError("wrong");
  return key;
}

function localBackups() {
  try {
    const kept = JSON.parse(localStorage.getItem(LOCAL) || "{}");
    return kept && typeof kept === "object" && !Array.isArray(kept) ? kept : {};
  } catch {
    return {};
  }
}

function webauthnError(error) {
  if (error instanceof PasskeyError) return error;
  if (error && error.name === "NotAllowedError") return new PasskeyError("cancelled", error.message);
  return new PasskeyError("unsupported", String(error?.message || error));
}

function prfResult(credential) {
  const prf = credential.getClientExtensionResults?.().prf;
  return prf && prf.results && prf.results.first ? new Uint8Array(prf.results.first) : null;
}

/**
 * Make a passkey for `key` and wrap the key with its PRF output. Returns {credentialId, remote}:
 * `remote` is true when the registry keeps the ciphertext too, false when it was asked and refused.
 */
export async function protect(key, { remote }) {
  if (!window.PublicKeyCredential || !navigator.credentials) throw new PasskeyError("unsupported");
  const input = await prfInput();
  let output;
  let credential;
  try {
    credential = await navigator.credentials.create({
      publicKey: {
        rp: { name: "Kotowari", id: location.hostname },
        user: { id: random(16), name: key.did.slice(-24), displayName: `Kotowari ${key.did.slice(-8)}` },
        challenge: random(32),
        pubKeyCredParams: [-8, -7, -257].map((alg) => ({ type: "public-key", alg })),
        authenticatorSelection: { residentKey: "required", requireResidentKey: true, userVerification: "required" },
        extensions: { prf: { eval: { first: input } } },
      },
    });
    const prf = credential.getClientExtensionResults?.().prf;
    if (!prf || prf.enabled === false) throw new PasskeyError("unsupported", "the authenticator has no PRF");
    output = prfResult(credential);
    if (!output) {
      // Some authenticators only enable PRF at creation: evaluate it with one assertion.
      const assertion = await navigator.credentials.get({
        publicKey: {
          challenge: random(32), userVerification: "required",
          allowCredentials: [{ type: "public-key", id: credential.rawId }],
          extensions: { prf: { eval: { first: input } } },
        },
      });
      output = prfResult(assertion);
    }
  } catch (error) {
    throw webauthnError(error);
  }
  if (!output) throw new PasskeyError("unsupported", "no PRF output");
  const credentialId = base64urlEncode(new Uint8Array(credential.rawId));
  const wrapped = await wrap(key, output, input);
  const kept = localBackups();
  kept[credentialId] = { did: key.did, wrapped };
  localStorage.setItem(LOCAL, JSON.stringify(kept));
  let stored = null;
  if (remote) {
    const unsigned = { type: "KeyBackup", did: key.did, credential_id: credentialId, wrapped };
    const created = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
    const nonce = base64urlEncode(random(16));
    const signed = await signDocument({ ...unsigned, created, nonce }, key, created);
    try {
      const response = await fetch(`/v1/key-backups/${credentialId}`, {
        method: "PUT", headers: { "Content-Type": "application/json" }, body: canonicalize(signed), credentials: "omit",
      });
      stored = response.ok;
    } catch {
      stored = false;
    }
  }
  return { credentialId, remote: stored };
}

/** Ask for a passkey (any this site has) and unlock the key it protects, from here or the registry. */
export async function unlock() {
  if (!window.PublicKeyCredential || !navigator.credentials) throw new PasskeyError("unsupported");
  const input = await prfInput();
  let assertion;
  try {
    assertion = await navigator.credentials.get({
      publicKey: { challenge: random(32), userVerification: "required", extensions: { prf: { eval: { first: input } } } },
    });
  } catch (error) {
    throw webauthnError(error);
  }
  const output = prfResult(assertion);
  if (!output) throw new PasskeyError("unsupported", "no PRF output");
  const credentialId = base64urlEncode(new Uint8Array(assertion.rawId));
  let backup = localBackups()[credentialId];
  if (!backup) {
    try {
      const response = await fetch(`/v1/key-backups/${credentialId}`, { headers: { Accept: "application/json" }, credentials: "omit" });
      backup = response.ok ? await response.json() : null;
    } catch {
      backup = null;
    }
  }
  if (!backup || !backup.wrapped || typeof backup.did !== "string") throw new PasskeyError("not_found");
  return unwrap(backup.wrapped, backup.did, output);
}
