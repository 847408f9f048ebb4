import { hex, sha256, signDocument, timestamp, newNonce } from "./crypto.js";
import { clearErrors, downloadLink, file, lines, problemMessages, showErrors, showKeyStatus, text } from "./common.js";

const form = document.getElementById("reserve-form");
const hashes = new Map(); // file name -> SHA-256 hex, computed here; the file never leaves the browser

document.getElementById("files").addEventListener("change", async (event) => {
  hashes.clear();
  const list = document.getElementById("file-hashes");
  list.replaceChildren();
  for (const chosen of event.target.files) {
    const digest = hex(await sha256(new Uint8Array(await chosen.arrayBuffer())));
    hashes.set(chosen.name, digest);
    const item = document.createElement("li");
    const code = document.createElement("code");
    code.textContent = digest;
    item.append(`${chosen.name}: `, code);
    list.append(item);
  }
});

function claimDocument(did) {
  const identifiers = [
    ...lines("urls").map((value) => ({ scheme: "url", value })),
    ...[...new Set(hashes.values())].map((value) => ({ scheme: "sha256", value })),
    ...lines("names").map((value) => ({ scheme: "name", value })),
  ];
  if (text("isni")) identifiers.push({ scheme: "isni", value: text("isni") });
  if (text("wikidata")) identifiers.push({ scheme: "wikidata", value: text("wikidata") });
  const uses = {};
  for (const box of form.querySelectorAll('input[name="uses"]:checked')) uses[box.value] = "n";
  const subject = { kind: form.querySelector('input[name="kind"]:checked').value, identifiers };
  if (text("title")) subject.title = text("title");
  return { type: "Claim", claimant: did, subject, uses, created: timestamp(), nonce: newNonce() };
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors();
  const key = await showKeyStatus();
  if (!key) {
    document.getElementById("needs-key").focus?.();
    return;
  }
  const signed = await signDocument(claimDocument(key.did), key);
  const [ok, body] = await file("/v1/claims", signed);
  if (!ok) {
    showErrors(...problemMessages(body));
    return;
  }
  document.getElementById("receipt-id").textContent = body.id;
  document.getElementById("receipt-index").textContent = String(body.log.index);
  document.getElementById("receipt-size").textContent = String(body.log.tree_size);
  document.getElementById("receipt-link").href = `/claims/${encodeURIComponent(body.id)}`;
  downloadLink(document.getElementById("receipt-download"), JSON.stringify(signed, null, 2) + "\n", "claim.json");
  const receipt = document.getElementById("receipt");
  receipt.hidden = false;
  receipt.scrollIntoView();
});

showKeyStatus();
