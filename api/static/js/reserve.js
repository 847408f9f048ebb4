// The reserve form: a claim built from the form, checked here in the registry's words, signed in
// this browser once per intent, and filed; a replay of the same document shows the existing claim.
import { hex, sha256, signDocument } from "./crypto.js";
import { isniProblem, nameProblem, tooLong, urlProblem, wikidataProblem } from "./checks.js";
import { clearErrors, downloadLink, file, numberedLines, showKeyStatus, text } from "./common.js";
import { item, problemItems, showErrors, showKeyNeeded } from "./problems.js";
import { Intent, documentId, fetchJson, guard, problemSlug } from "./submit.js";

const form = document.getElementById("reserve-form");
const hashes = new Map(); // file name -> SHA-256 hex, computed here; the file never leaves the browser
const intent = new Intent();

document.getElementById("files").addEventListener("change", async (event) => {
  hashes.clear();
  const list = document.getElementById("file-hashes");
  list.replaceChildren();
  for (const chosen of event.target.files) {
    const digest = hex(await sha256(new Uint8Array(await chosen.arrayBuffer())));
    hashes.set(chosen.name, digest);
    const entry = document.createElement("li");
    const code = document.createElement("code");
    code.textContent = digest;
    entry.append(`${chosen.name}: `, code);
    list.append(entry);
  }
});

/** The unsigned claim (no created/nonce yet), the map from its JSON pointers to form fields, and the
 * problems the page can already see. */
function claimDraft(did) {
  const identifiers = [];
  const map = [
    { prefix: "/subject/kind", field: "kind-fieldset" },
    { prefix: "/subject/title", field: "title" },
    { prefix: "/subject/identifiers", field: "identifiers" },
    { prefix: "/uses", field: "uses-fieldset" },
  ];
  const problems = [];
  const add = (scheme, value, field, line, check) => {
    const prefix = `/subject/identifiers/${identifiers.length}`;
    map.push({ prefix, field, line, scheme });
    identifiers.push({ scheme, value });
    const code = check ? check(value) : null;
    if (code) problems.push([`${prefix}/value`, code, {}]);
  };
  for (const [value, line] of numberedLines("urls")) add("url", value, "urls", line, urlProblem);
  for (const value of new Set(hashes.values())) add("sha256", value, "files", null, null);
  for (const [value, line] of numberedLines("names")) add("name", value, "names", line, nameProblem);
  if (text("isni")) add("isni", text("isni"), "isni", null, isniProblem);
  if (text("wikidata")) add("wikidata", text("wikidata"), "wikidata", null, wikidataProblem);
  const uses = {};
  for (const box of form.querySelectorAll('input[name="uses"]:checked')) uses[box.value] = "n";
  const subject = { kind: form.querySelector('input[name="kind"]:checked').value, identifiers };
  if (text("title")) {
    subject.title = text("title");
    const long = tooLong(subject.title, 500);
    if (long) problems.push(["/subject/title", long.code, long.values]);
  }
  if (!identifiers.length) problems.push(["/subject/identifiers", "identifiers_none", {}]);
  if (!Object.keys(uses).length) problems.push(["/uses", "uses_none", {}]);
  return { unsigned: { type: "Claim", claimant: did, subject, uses }, map, problems };
}

function showReceipt(signed, id, index, size, already) {
  document.getElementById("receipt-already").hidden = !already;
  document.getElementById("receipt-id").textContent = id;
  document.getElementById("receipt-index").textContent = String(index);
  document.getElementById("receipt-size").textContent = size === null ? "—" : String(size);
  document.getElementById("receipt-link").href = `/claims/${encodeURIComponent(id)}`;
  downloadLink(document.getElementById("receipt-download"), JSON.stringify(signed, null, 2) + "\n", "claim.json");
  const receipt = document.getElementById("receipt");
  receipt.hidden = false;
  receipt.scrollIntoView({ block: "start" });
  // Said, not focused: moving focus to the end of a page that just grew scrolls unpredictably.
  document.getElementById("receipt-status").textContent = document.getElementById("receipt-title").textContent;
}

async function treeSize() {
  try {
    const note = await (await fetch("/log/checkpoint", { credentials: "omit" })).text();
    return Number(note.split("\n")[1]) || null;
  } catch {
    return null;
  }
}

guard(form, document.getElementById("sign-claim"), async () => {
  clearErrors();
  const key = await showKeyStatus();
  if (!key) {
    showKeyNeeded();
    return;
  }
  const { unsigned, map, problems } = claimDraft(key.did);
  if (problems.length) {
    showErrors(problems.map(([pointer, code, values]) => item(pointer, code, values, map)));
    return;
  }
  const signed = await intent.sign(key.did, unsigned, (doc, created) => signDocument(doc, key, created));
  const id = await documentId(signed);
  const [ok, body] = await file("/v1/claims", signed);
  if (ok) {
    showReceipt(signed, body.id, body.log.index, body.log.tree_size, false);
    return;
  }
  const slug = problemSlug(body);
  if (slug === "nonce-reused" || slug === "network") {
    // The same document again (a retry, or an answer that got lost): show the claim that exists.
    const existing = await fetchJson(`/v1/claims/${id}`);
    if (existing) {
      showReceipt(signed, existing.id, existing.log_index, await treeSize(), true);
      return;
    }
  }
  if (slug === "clock-window") intent.forget();
  showErrors(problemItems(body, map));
});

showKeyStatus();
