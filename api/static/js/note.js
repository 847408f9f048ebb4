// C2SP signed-note verification for one Ed25519 key, as keys/note.py opens notes: the checkpoint the
// inclusion proof leads to must carry a valid signature by the registry's note verifier key.
import { base64Decode, concat, sha256 } from "./crypto.js";

const ALG_ED25519 = 1;

/** Parse "<name>+<hex key id>+<base64(0x01 || public key)>" and check the key id is the key's. */
async function parseVerifierKey(text) {
  // The name and the hex key id hold no "+", but the base64 key may.
  const [name, id, ...rest] = text.split("+");
  const encoded = rest.join("+");
  const raw = base64Decode(encoded);
  if (!name || raw.length !== 33 || raw[0] !== ALG_ED25519) throw new Error("not an Ed25519 note verifier key");
  const publicRaw = raw.slice(1);
  const digest = await sha256(concat(new TextEncoder().encode(name + "\n"), Uint8Array.of(ALG_ED25519), publicRaw));
  const keyId = digest.slice(0, 4);
  if (Array.from(keyId, (b) => b.toString(16).padStart(2, "0")).join("") !== id) throw new Error("key id mismatch");
  return { name, keyId, publicRaw };
}

/** The note's text if a signature line by `verifierKey` verifies; throws otherwise. */
export async function openNote(note, verifierKey) {
  const verifier = await parseVerifierKey(verifierKey);
  const split = note.lastIndexOf("\n\n");
  if (split < 0) throw new Error("a signed note has a blank line before its signatures");
  const text = note.slice(0, split + 1);
  const key = await crypto.subtle.importKey("raw", verifier.publicRaw, { name: "Ed25519" }, false, ["verify"]);
  for (const line of note.slice(split + 2).split("\n")) {
    const match = /^\u2014 (\S+) (\S+)$/.exec(line);
    if (!match || match[1] !== verifier.name) continue;
    const blob = base64Decode(match[2]);
    if (blob.length !== 68 || !blob.slice(0, 4).every((b, i) => b === verifier.keyId[i])) continue;
    const message = new TextEncoder().encode(text);
    if (await crypto.subtle.verify({ name: "Ed25519" }, key, blob.slice(4), message)) return text;
    throw new Error("the checkpoint's signature does not verify");
  }
  throw new Error("the checkpoint is not signed by the registry's key");
}
