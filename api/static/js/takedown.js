// The takedown form: the operator picked by name, each chosen regime's requirements shown and checked
// here (all of them at once, in the page's language) before signing; personal fields split off and
// committed to; one signed notice per intent; the notices filed from this browser listed with states.
import { base64urlEncode, hex, signDocument } from "./crypto.js";
import { canonicalize } from "./jcs.js";
import { claimIdProblem, didProblem, emailProblem, locationUrlProblem, urlProblem } from "./checks.js";
import { clearErrors, file, numberedLines, showKeyStatus, text } from "./common.js";
import { item, problemItems, showErrors, showKeyNeeded } from "./problems.js";
import { missingElements } from "./requirements.js";
import { Intent, documentId, fetchJson, guard, problemSlug } from "./submit.js";
import { listMine, remember } from "./mine.js";

const form = document.getElementById("takedown-form");
const intent = new Intent();
// Each regime's required elements, rendered from registry.notices.REQUIREMENTS: one source.
const requirements = JSON.parse(document.getElementById("requirements-data").textContent);
// Registered operators with their domain and authority, verified first (NoticeStore.operators).
const operators = new Map(
  JSON.parse(document.getElementById("operators-data").textContent).map((op) => [op.did, op]),
);
const picker = document.getElementById("operator-pick");

/** Say who the DID in the operator field is: its verified domain, or that nothing confirms its name. */
function showStanding() {
  const standing = document.getElementById("operator-standing");
  const did = text("operator");
  if (picker) picker.value = operators.has(did) ? did : "";
  if (!did) {
    standing.hidden = true;
    return;
  }
  const op = operators.get(did);
  let message;
  if (!op) message = standing.dataset.unknown;
  else if (op.authority === "domain-verified") message = standing.dataset.verified.replace("{domain}", op.domain);
  else message = standing.dataset.unverified;
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
  for (const element of form.querySelectorAll("input[data-pointer], textarea[data-pointer], fieldset[data-pointer]")) {
    const required = needed.has(element.dataset.pointer);
    element.classList.toggle("required", required);
    const label = element.id ? document.querySelector(`label[for="${CSS.escape(element.id)}"]`) : null;
    if (label) label.classList.toggle("required", required);
    if (element.matches("input:not([type=checkbox]), textarea")) element.setAttribute("aria-required", String(required));
  }
}

/** The whole notice (personal fields in), the pointer → field map, and what is already wrong. */
function noticeDraft(did) {
  const map = [
    { prefix: "/operator", field: "operator" },
    { prefix: "/subject", field: "subject-fieldset" },
    { prefix: "/subject/title", field: "subject-title" },
    { prefix: "/subject/kind", field: "subject-fieldset" },
    { prefix: "/material", field: "material-fieldset" },
    { prefix: "/actions", field: "actions-fieldset" },
    { prefix: "/regimes", field: "regimes-fieldset" },
    { prefix: "/grounds", field: "grounds" },
    { prefix: "/jp_platform", field: "jp-fieldset" },
    { prefix: "/jp_platform/infringed_right", field: "jp-right" },
    { prefix: "/jp_platform/reason", field: "jp-reason" },
    { prefix: "/contact", field: "contact-fieldset" },
    { prefix: "/contact/name", field: "contact-name" },
    { prefix: "/contact/email", field: "contact-email" },
    { prefix: "/contact/address", field: "contact-address" },
    { prefix: "/contact/phone", field: "contact-phone" },
    { prefix: "/notify", field: "notify-fieldset" },
    { prefix: "/notify/email", field: "notify-email" },
    { prefix: "/notify/webhook", field: "notify-webhook" },
    { prefix: "/signature", field: "signature" },
    { prefix: "/statements", field: "statements-fieldset" },
  ];
  for (const box of form.querySelectorAll('input[name="statements"]')) map.push({ prefix: `/statements/${box.value}`, field: box.id });
  const problems = [];
  const subject = { kind: chosen("kind")[0] };
  const identifiers = [];
  for (const [value, line] of numberedLines("subject-urls")) {
    map.push({ prefix: `/subject/identifiers/${identifiers.length}`, field: "subject-urls", line, scheme: "url" });
    if (urlProblem(value)) problems.push([`/subject/identifiers/${identifiers.length}/value`, "url", {}]);
    identifiers.push({ scheme: "url", value });
  }
  if (identifiers.length) subject.identifiers = identifiers;
  const claims = [];
  for (const [value, line] of numberedLines("subject-claims")) {
    map.push({ prefix: `/subject/claims/${claims.length}`, field: "subject-claims", line });
    if (claimIdProblem(value)) problems.push([`/subject/claims/${claims.length}`, "claim_id", {}]);
    claims.push(value.toLowerCase());
  }
  if (claims.length) subject.claims = claims;
  if (!identifiers.length && !claims.length) problems.push(["/subject", "notice_subject", {}]);
  if (text("subject-title")) subject.title = text("subject-title");
  const locations = [];
  for (const [kind, field] of [["url", "loc-urls"], ["model", "loc-models"], ["dataset", "loc-datasets"]]) {
    for (const [value, line] of numberedLines(field)) {
      map.push({ prefix: `/material/locations/${locations.length}`, field, line, scheme: kind === "url" ? "location" : null });
      if (kind === "url" && locationUrlProblem(value)) problems.push([`/material/locations/${locations.length}/value`, "url_scheme", {}]);
      locations.push({ kind, value });
    }
  }
  const operator = text("operator");
  if (!operator) problems.push(["/operator", "operator_required", {}]);
  else if (didProblem(operator)) problems.push(["/operator", "did", {}]);
  const doc = {
    type: "Notice",
    notifier: did,
    operator,
    subject,
    material: { locations },
    actions: chosen("actions"),
    regimes: chosen("regimes"),
    language: document.documentElement.lang,
  };
  if (!doc.actions.length) problems.push(["/actions", "actions_none", {}]);
  if (!doc.regimes.length) problems.push(["/regimes", "regimes_none", {}]);
  if (text("grounds")) doc.grounds = text("grounds");
  const contact = {};
  for (const field of ["name", "email", "address", "phone"]) if (text(`contact-${field}`)) contact[field] = text(`contact-${field}`);
  if (contact.email && emailProblem(contact.email)) problems.push(["/contact/email", "email", {}]);
  if (Object.keys(contact).length) doc.contact = contact;
  if (text("signature")) doc.signature = text("signature");
  // Where to tell the notifier of state changes: personal, split off below (registry/notices/notify.py).
  const notify = {};
  if (text("notify-email")) notify.email = text("notify-email");
  if (text("notify-webhook")) notify.webhook = text("notify-webhook");
  if (notify.email && emailProblem(notify.email)) problems.push(["/notify/email", "email", {}]);
  if (notify.webhook && locationUrlProblem(notify.webhook)) problems.push(["/notify/webhook", "url_scheme", {}]);
  if (Object.keys(notify).length) doc.notify = notify;
  const statements = {};
  for (const box of form.querySelectorAll('input[name="statements"]:checked')) statements[box.value] = box.dataset.text.normalize("NFC");
  if (Object.keys(statements).length) doc.statements = statements;
  const jpFields = {};
  if (text("jp-right")) jpFields.infringed_right = text("jp-right");
  if (text("jp-reason")) jpFields.reason = text("jp-reason");
  if (Object.keys(jpFields).length) doc.jp_platform = jpFields;
  problems.push(...missingElements(doc, requirements));
  return { unsigned: doc, map, problems };
}

// The Notice's personal fields, as registry/privacy/personal.py PERSONAL_FIELDS["Notice"] lists them.
const PERSONAL_PATHS = [
  ["contact", "name"], ["contact", "email"], ["contact", "address"], ["contact", "phone"],
  ["signature"], ["jp_platform", "requester_address"], ["notify", "webhook"], ["notify", "email"],
];

/**
 * Split the personal fields off before signing (registry/privacy/personal.py, PERSONAL_FIELDS): the
 * signed notice carries only HMAC-SHA256(salt, JCS(data)); the part travels beside it, never logged.
 */
async function splitPersonal(whole) {
  const doc = structuredClone(whole);
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

function showFiled(id, held, already) {
  remember(id);
  listMine();
  document.getElementById("filed-already").hidden = !already;
  document.getElementById("filed-held").hidden = held !== true;
  document.getElementById("filed-id").textContent = id;
  document.getElementById("filed-link").href = `/notices/${encodeURIComponent(id)}`;
  const filed = document.getElementById("filed");
  filed.hidden = false;
  filed.scrollIntoView({ block: "start" });
  // Said, not focused: moving focus to the end of a page that just grew scrolls unpredictably.
  document.getElementById("filed-status").textContent = document.getElementById("filed-title").textContent;

}

form.addEventListener("change", markRequired);
document.getElementById("operator").addEventListener("input", showStanding);
document.getElementById("operator").addEventListener("change", showStanding);
picker?.addEventListener("change", () => {
  if (picker.value) document.getElementById("operator").value = picker.value;
  showStanding();
});

guard(form, document.getElementById("sign-notice"), async () => {
  clearErrors();
  const key = await showKeyStatus();
  if (!key) {
    showKeyNeeded();
    return;
  }
  const { unsigned, map, problems } = noticeDraft(key.did);
  if (problems.length) {
    showErrors(problems.map(([pointer, code, values]) => item(pointer, code, values, map)));
    return;
  }
  const { signed, body } = await intent.sign(key.did, unsigned, async (whole, created) => {
    const [publicDocument, personal] = await splitPersonal(whole);
    const signedDocument = await signDocument(publicDocument, key, created);
    return { signed: signedDocument, body: personal ? { document: signedDocument, personal } : signedDocument };
  });
  const id = await documentId(signed);
  const [ok, answer] = await file("/v1/notices", body);
  if (ok) {
    showFiled(answer.id, answer.operator_registered === false, false);
    return;
  }
  const slug = problemSlug(answer);
  if (slug === "nonce-reused" || slug === "network") {
    const existing = await fetchJson(`/v1/notices/${id}`);
    if (existing) {
      showFiled(existing.id, existing.operator_registered === false, true);
      return;
    }
  }
  if (slug === "clock-window") intent.forget();
  showErrors(problemItems(answer, map));
});

markRequired();
showStanding();
listMine();
showKeyStatus();
