// Keys, did:key and eddsa-jcs-2022 proofs in the browser, byte for byte as keys/ makes them.
//
// The private key is made by WebCrypto and exported only into the key file the creator saves
// and into this tab's sessionStorage; nothing here sends it anywhere.

import { canonicalBytes } from "./jcs.js";

const ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
const ED25519_PUB = [0xed, 0x01]; // multicodec ed25519-pub, as an unsigned varint
const SESSION_KEY = "kotowari.key";
const SAVED_KEY = "kotowari.key.saved"; // "1" once the key was saved as a file, loaded from one, or passkey-protected

/** Why a key file was refused: `code` names the catalog entry (key.error.{code}) the page says. */
export class KeyFileError extends Error {
  constructor(code, detail) {
    super(detail);
    this.code = code;
  }
}

export function base58encode(bytes) {
  let zeros = 0;
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++;
  const digits = [];
  for (let i = zeros; i < bytes.length; i++) {
    let carry = bytes[i];
    for (let j = 0; j < digits.length; j++) {
      carry += digits[j] << 8;
      digits[j] = carry % 58;
      carry = (carry / 58) | 0;
    }
    while (carry > 0) {
      digits.push(carry % 58);
      carry = (carry / 58) | 0;
    }
  }
  return "1".repeat(zeros) + digits.reverse().map((d) => ALPHABET[d]).join("");
}

export function base64urlEncode(bytes) {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function base64urlDecode(text) {
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text)) throw new Error("not base64url");
  const padded = text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

export function base64Decode(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

export function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

export async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

export function multibaseOf(publicRaw) {
  return "z" + base58encode(concat(Uint8Array.from(ED25519_PUB), publicRaw));
}

export function didOf(publicRaw) {
  return "did:key:" + multibaseOf(publicRaw);
}

/** RFC 3339 UTC with whole seconds, as documents carry times (2026-11-22T04:38:47Z). */
export function timestamp(date = new Date()) {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** A fresh 128-bit nonce, base64url (as registry.documents.new_nonce). */
export function newNonce() {
  return base64urlEncode(crypto.getRandomValues(new Uint8Array(16)));
}

class Key {
  constructor(privateKey, publicRaw, seed) {
    this.privateKey = privateKey;
    this.publicRaw = publicRaw;
    this.seed = seed;
    this.did = didOf(publicRaw);
  }

  /** The RFC 8037 JWK that keys.ed25519.SigningKey.to_jwk writes and read_key_file reads. */
  jwk() {
    return { crv: "Ed25519", d: base64urlEncode(this.seed), kid: this.did, kty: "OKP", x: base64urlEncode(this.publicRaw) };
  }

  /** The key file, formatted like `kotowari keys new` (sorted keys, two-space indent). */
  keyFile() {
    return JSON.stringify(this.jwk(), null, 2) + "\n";
  }
}

export async function generateKey() {
  const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
  const jwk = await crypto.subtle.exportKey("jwk", pair.privateKey);
  return importJwk({ kty: "OKP", crv: "Ed25519", d: jwk.d, x: jwk.x });
}

/** Load an Ed25519 JWK, refusing one whose x is not the public key of d, or whose kid names another key. */
export async function importJwk(jwk) {
  if (!jwk || typeof jwk !== "object" || jwk.kty !== "OKP" || jwk.crv !== "Ed25519") {
    throw new KeyFileError("not_key", 'an Ed25519 JWK has "kty": "OKP" and "crv": "Ed25519"');
  }
  let seed;
  let publicRaw;
  try {
    seed = base64urlDecode(jwk.d);
    publicRaw = base64urlDecode(jwk.x);
  } catch {
    throw new KeyFileError("not_key", 'JWK "d" and "x" must be base64url');
  }
  if (seed.length !== 32 || publicRaw.length !== 32) throw new KeyFileError("not_key", "an Ed25519 key is 32 bytes");
  let privateKey;
  try {
    privateKey = await crypto.subtle.importKey(
      "jwk", { kty: "OKP", crv: "Ed25519", d: jwk.d, x: jwk.x }, { name: "Ed25519" }, false, ["sign"],
    );
  } catch (error) {
    if (error && error.name === "NotSupportedError") throw new KeyFileError("unsupported", "no Ed25519 in this browser");
    // Chromium itself refuses a JWK whose x does not belong to d, with an empty DataError.
    throw new KeyFileError("mismatch", 'JWK "x" is not the public key of "d", or the key is malformed');
  }
  // WebCrypto takes x on trust; prove the pair belongs together before signing anything with it.
  const publicKey = await crypto.subtle.importKey("raw", publicRaw, { name: "Ed25519" }, true, ["verify"]);
  const probe = new TextEncoder().encode("kotowari key check");
  const signature = await crypto.subtle.sign({ name: "Ed25519" }, privateKey, probe);
  if (!(await crypto.subtle.verify({ name: "Ed25519" }, publicKey, signature, probe))) {
    throw new KeyFileError("mismatch", 'JWK "x" is not the public key of "d"');
  }
  const key = new Key(privateKey, publicRaw, seed);
  if (typeof jwk.kid === "string" && jwk.kid.startsWith("did:key:") && jwk.kid !== key.did) {
    throw new KeyFileError("kid", 'JWK "kid" names a different key');
  }
  return key;
}

/** An eddsa-jcs-2022 DataIntegrityProof over `document`, exactly as keys.proofs.sign_document. */
export async function signDocument(document, key, created = timestamp()) {
  if ("proof" in document) throw new Error("document already has a proof");
  const proof = {
    type: "DataIntegrityProof",
    cryptosuite: "eddsa-jcs-2022",
    created,
    verificationMethod: `${key.did}#${multibaseOf(key.publicRaw)}`,
    proofPurpose: "assertionMethod",
  };
  if ("@context" in document) proof["@context"] = structuredClone(document["@context"]);
  const hashData = concat(await sha256(canonicalBytes(proof)), await sha256(canonicalBytes(document)));
  const signature = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, key.privateKey, hashData));
  return { ...document, proof: { ...proof, proofValue: "z" + base58encode(signature) } };
}

/** Parse a key file's text: the key, or a KeyFileError saying (by code) what is wrong with it. */
export async function readKeyFile(textContent) {
  if (textContent.length > 16384) throw new KeyFileError("too_large", "a key file is a few hundred bytes");
  let jwk;
  try {
    jwk = JSON.parse(textContent);
  } catch {
    throw new KeyFileError("not_json", "not JSON");
  }
  return importJwk(jwk);
}

/** Keep the key in this tab; `saved` says whether it also exists somewhere safe (a file, a passkey). */
export function rememberKey(key, { saved = false } = {}) {
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(key.jwk()));
  sessionStorage.setItem(SAVED_KEY, saved ? "1" : "0");
}

export function markKeySaved() {
  if (sessionStorage.getItem(SESSION_KEY)) sessionStorage.setItem(SAVED_KEY, "1");
}

/** Whether the key in this tab is saved (true when there is no key: nothing can be lost). */
export function keySaved() {
  return !sessionStorage.getItem(SESSION_KEY) || sessionStorage.getItem(SAVED_KEY) === "1";
}

export function forgetKey() {
  sessionStorage.removeItem(SESSION_KEY);
  sessionStorage.removeItem(SAVED_KEY);
}

export async function currentKey() {
  const stored = sessionStorage.getItem(SESSION_KEY);
  if (!stored) return null;
  try {
    return await importJwk(JSON.parse(stored));
  } catch {
    forgetKey();
    return null;
  }
}
