// Check in this browser that the claim shown is in the registry's transparency log: hash the
// document as shown (RFC 8785), and walk the inclusion proof up to the checkpoint's root.
import { canonicalBytes } from "./jcs.js";
import { base64Decode, currentKey, signDocument } from "./crypto.js";
import { clearErrors, file, text } from "./common.js";
import { problemItems, showErrors } from "./problems.js";
import { Intent, fetchJson, guard, problemSlug } from "./submit.js";
import { leafHash, verifyInclusion } from "./merkle.js";
import { openNote } from "./note.js";

const result = document.getElementById("proof-result");
const claim = JSON.parse(document.getElementById("claim-data").textContent);
const proof = JSON.parse(document.getElementById("proof-data").textContent);

async function check() {
  try {
    // The tree size and root come from the checkpoint (C2SP tlog-checkpoint: origin, size, root),
    // and only once its signature by the registry's note key verifies (C2SP signed-note).
    const text = await openNote(proof.checkpoint, proof.note_verifier_key);
    const [, size, root] = text.split("\n");
    const leaf = await leafHash(canonicalBytes(claim));
    const ok = await verifyInclusion(
      leaf, proof.leaf_index, Number(size), proof.inclusion_proof.map(base64Decode), base64Decode(root),
    );
    result.dataset.verified = String(ok);
    result.textContent = ok ? result.dataset.ok : result.dataset.bad;
  } catch (error) {
    result.dataset.verified = "false";
    result.textContent = `${result.dataset.bad} (${error.message || error})`;
  }
}

/** The claimant, with their key loaded in this tab, may withdraw the claim from here. */
async function offerWithdrawal() {
  const section = document.getElementById("withdraw");
  const key = await currentKey();
  if (!section || !key || key.did !== claim.claimant) return;
  section.hidden = false;
  const form = document.getElementById("withdraw-form");
  const intent = new Intent();
  const map = [{ prefix: "/reason", field: "withdraw-reason" }];
  guard(form, form.querySelector("button[type=submit]"), async () => {
    clearErrors();
    const id = form.dataset.claim;
    const unsigned = { type: "ClaimWithdrawal", claimant: key.did, claim: id };
    if (text("withdraw-reason")) unsigned.reason = text("withdraw-reason");
    const signed = await intent.sign(key.did, unsigned, (doc, created) => signDocument(doc, key, created));
    const [ok, body] = await file(`/v1/claims/${encodeURIComponent(id)}/withdraw`, signed);
    const slug = problemSlug(body);
    if (!ok && ["nonce-reused", "network", "already-withdrawn"].includes(slug)) {
      // A retry of a withdrawal that went through: the claim says so itself.
      const stored = await fetchJson(`/v1/claims/${encodeURIComponent(id)}`);
      if (stored && stored.status === "withdrawn") {
        window.location.reload();
        return;
      }
    }
    if (!ok) {
      showErrors(problemItems(body, map));
      return;
    }
    window.location.reload();
  });
}

check();
offerWithdrawal();
