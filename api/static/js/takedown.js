import { base64urlEncode, hex, signDocument, timestamp, newNonce } from "./crypto.js";
import { canonicalize } from "./jcs.js";
import { clearErrors, file, lines, problemMessages, showErrors, showKeyStatus, text } from "./common.js";

const form = document.getElementById("takedown-form");
// Each regime's required elements, rendered from registry.notices.REQUIREMENTS: one source.
const requirements = JSON.parse(document.getElementById("requirements-data").textContent);
// Registered operators with their domain and authority, verified first (NoticeStore.operators).
const operators = new Map(
  JSON.parse(document.getElementById("operators-data").textContent).map((op) => [op.did, op]),
);

/** Say who the DID in the operator field is: its verified domain, or that nothing confirms its name. */
function showStanding() {
  const standing = document.getElementById("operator-standing");
  const did = text("operator");
  if (!did) {
    standing.hidden = true;
    return;
  }
  const op = operators.get(did);
  let message;
  if (!op) {
    message = standing.dataset.unknown;
  } else if (op.authority === "domain-verified") {
    message = standing.dataset.verified.replace("{domain}", op.domain);
  } else {
    message = standing.dataset.unverified;
  }
  if (op && op.name_disputed) message += ` ${standing.dataset.disputed}`;
  standing.textContent = op && op.name ? `${message} (${op.name})` : message;
  standing.dataset.authority = op ? op.authority : "unknown";
  standing.hidden = false;
}

function chosen(name) {
  return [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((box) => box.value);
}

/** Show the requirement lists of the chosen regimes and mark the fields they need. */
function markRequired() {
  const regimes = chosen("regimes");
  const needed = new Set(regimes.flatMap((regime) => requirements[regime].map((r) => r.pointer)));
  for (const list of document.querySelectorAll(".requirements")) list.hidden = !regimes.includes(list.dataset.regime);
  for (const element of form.querySelectorAll("[data-pointer]")) {
    const required = needed.has(element.dataset.pointer);
    element.classList.toggle("required", required);
    if (element.matches("input, textarea")) element.setAttribute("aria-required", String(required));
  }
}

function noticeDocument(did) {
  const subject = { kind: chosen("kind")[0] };
  const identifiers = lines("subject-urls").map((value) => ({ scheme: "url", value }));
  if (identifiers.length) subject.identifiers = identifiers;
  const claims = lines("subject-claims").map((value) => value.toLowerCase());
  if (claims.length) subject.claims = claims;
  if (text("subject-title")) subject.title = text("subject-title");
  const locations = [
    ...lines("loc-urls").map((value) => ({ kind: "url", value })),
    ...lines("loc-models").map((value) => ({ kind: "model", value })),
    ...lines("loc-datasets").map((value) => ({ kind: "dataset", value })),
  ];
  const doc = {
    type: "Notice",
    notifier: did,
    operator: text("operator"),
    subject,
    material: { locations },
    actions: chosen("actions"),
    regimes: chosen("regimes"),
    created: timestamp(),
    nonce: newNonce(),
    language: document.documentElement.lang,
  };
  if (text("grounds")) doc.grounds = text("grounds");
  const contact = {};
  for (const field of ["name", "email", "address", "phone"]) if (text(`contact-${field}`)) contact[field] = text(`contact-${field}`);
  if (Object.keys(contact).length) doc.contact = contact;
  if (text("signature")) doc.signature = text("signature");
  const statements = {};
  for (const box of form.querySelectorAll('input[name="statements"]:checked')) statements[box.value] = box.dataset.text.normalize("NFC");
  if (Object.keys(statements).length) doc.statements = statements;
  const jp = {};
  if (text("jp-right")) jp.infringed_right = text("jp-right");
  if (text("jp-reason")) jp.reason = text("jp-reason");
  if (Object.keys(jp).length) doc.jp_platform = jp;
  return doc;
}

// The Notice's personal fields, as registry/privacy/personal.py PERSONAL_FIELDS["Notice"] lists them.
const PERSONAL_PATHS = [
  ["contact", "name"], ["contact", "email"], ["contact", "address"], ["contact", "phone"],
  ["signature"], ["jp_platform", "requester_address"],
];

/**
 * Split the personal fields off before signing (registry/privacy/personal.py, PERSONAL_FIELDS): the
 * signed notice carries only HMAC-SHA256(salt, JCS(data)); the part travels beside it, never logged.
 */
async function splitPersonal(doc) {
  const data = {};
  for (const path of PERSONAL_PATHS) {
    const parent = path.length === 1 ? doc : doc[path[0]];
    const name = path[path.length - 1];
    if (!parent || typeof parent !== "object" || parent[name] === undefined) continue;
    if (path.length === 1) data[name] = parent[name];
    else (data[path[0]] ??= {})[name] = parent[name];
    delete parent[name];
    if (path.length > 1 && !Object.keys(parent).length) delete doc[path[0]]; // drop what the split emptied
  }
  if (!Object.keys(data).length) return [doc, null];
  const salt = crypto.getRandomValues(new Uint8Array(32));
  const key = await crypto.subtle.importKey("raw", salt, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(canonicalize(data)));
  doc.personal = { commitment: hex(new Uint8Array(mac)) };
  return [doc, { salt: base64urlEncode(salt), data }];
}

const MINE = "kotowari.notices";

/** Notice ids filed from this browser (localStorage: ids only, nothing secret), newest first. */
function mine() {
  try {
    const ids = JSON.parse(localStorage.getItem(MINE) || "[]");
    return Array.isArray(ids) ? ids.filter((id) => /^[0-9a-f]{64}$/.test(id)) : [];
  } catch {
    return [];
  }
}

function remember(id) {
  localStorage.setItem(MINE, JSON.stringify([id, ...mine().filter((known) => known !== id)].slice(0, 50)));
  listMine();
}

function listMine() {
  const ids = mine();
  const section = document.getElementById("my-notices");
  section.hidden = ids.length === 0;
  section.querySelector("ul").replaceChildren(...ids.map((id) => {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = `/notices/${id}`;
    link.textContent = id;
    item.append(link);
    return item;
  }));
}

form.addEventListener("change", markRequired);
document.getElementById("operator").addEventListener("input", showStanding);
document.getElementById("operator").addEventListener("change", showStanding);
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors();
  const key = await showKeyStatus();
  if (!key) return;
  const [publicDocument, personal] = await splitPersonal(noticeDocument(key.did));
  const signed = await signDocument(publicDocument, key);
  const [ok, body] = await file("/v1/notices", personal ? { document: signed, personal } : signed);
  if (!ok) {
    showErrors(...problemMessages(body));
    return;
  }
  remember(body.id);
  document.getElementById("filed-held").hidden = body.operator_registered !== false;
  document.getElementById("filed-id").textContent = body.id;
  document.getElementById("filed-link").href = `/notices/${encodeURIComponent(body.id)}`;
  const filed = document.getElementById("filed");
  filed.hidden = false;
  filed.scrollIntoView();
});

markRequired();
showStanding();
listMine();
showKeyStatus();
