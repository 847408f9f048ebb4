// Problems, said next to the field they are about, in the page's language.
//
// One vocabulary of messages (the catalog's err.* entries) serves both the checks the page makes
// before signing and the RFC 9457 problems the registry answers: a problem's JSON pointer is mapped
// to the form field it came from through the field map the document builder returned, and its
// detail (English, from the registry) is recognised and said again in the page's words. The field
// is marked (aria-invalid, aria-describedby) and the message appears beside it; a summary above the
// form lists them all with links, and is focused and scrolled into view (on a phone too).
import { has, t } from "./strings.js";

/** The field's short name: its label (or legend) without the parenthesised help. */
export function fieldName(element) {
  if (!element) return "";
  let text = "";
  if (element.matches("fieldset")) text = element.querySelector("legend")?.textContent || "";
  else if (element.id) text = document.querySelector(`label[for="${CSS.escape(element.id)}"]`)?.textContent || "";
  return text.replace(/[（(][^）)]*[）)]/g, "").replace(/\s+/g, " ").trim();
}

/** The map entry for `pointer`: the one whose prefix is the pointer or its longest ancestor. */
export function locate(pointer, map = []) {
  let best = null;
  for (const entry of map) {
    const prefix = entry.prefix;
    if (pointer === prefix || pointer.startsWith(prefix + "/") || prefix === "") {
      if (!best || prefix.length > best.prefix.length) best = entry;
    }
  }
  if (best) return best;
  // Fields that carry their pointer themselves (data-pointer), the pointer's closest ancestor first.
  for (let path = pointer || ""; path; path = path.slice(0, path.lastIndexOf("/"))) {
    const field = document.querySelector(`[data-pointer="${CSS.escape(path)}"]:is(input, textarea, select, fieldset)`);
    if (field) return { prefix: path, field: field.id };
  }
  return null;
}

/** The message for a problem code, exactly as the pre-signing checks say it. */
export function message(code, values = {}) {
  return has(`err.${code}`) ? t(`err.${code}`, values) : t("err.invalid");
}

const MISSING = /^(dmca|dsa|jp-platform|no-fakes): missing/;

/** Recognise one of the registry's field errors: the code (and values) it means. */
export function classify(pointer, detail, entry) {
  detail = String(detail || "");
  const regime = MISSING.exec(detail);
  if (regime) return { code: "missing", values: { regime: regime[1], pointer } };
  if (/^\/regimes\/\d+$/.test(pointer) && /^dmca covers/.test(detail)) return { code: "dmca_kind" };
  if (/^\/regimes\/\d+$/.test(pointer) && /^no-fakes covers/.test(detail)) return { code: "nofakes_kind" };
  if (pointer === "/subject" && /name the subject/.test(detail)) return { code: "notice_subject" };
  if (/at least 1 item/.test(detail)) {
    const none = { "/subject/identifiers": "identifiers_none", "/uses": "uses_none", "/actions": "actions_none", "/regimes": "regimes_none" };
    if (none[pointer]) return { code: none[pointer] };
  }
  const atMost = /at most (\d+) characters/.exec(detail);
  if (atMost) return { code: "too_long", values: { max: atMost[1] } };
  if (/^\/subject\/claims\/\d+/.test(pointer)) return { code: "claim_id" };
  if (/^\/material\/locations\/\d+/.test(pointer) && /url location/.test(detail)) return { code: "url_scheme" };
  if (/^\/contact\/email$/.test(pointer) && /email must look like/.test(detail)) return { code: "email" };
  if (pointer === "/notify/email") return { code: "email" };
  if (pointer === "/notify/webhook") return { code: "notify_webhook" };
  if (/^\/(operator|by|notifier|claimant|did)$/.test(pointer) && /DID|did:/.test(detail)) return { code: "did" };
  const scheme = entry && entry.scheme;
  if (scheme === "url" || /registrable domain|not a URL|invalid URL|Public Suffix/.test(detail)) return { code: scheme === "location" ? "url_scheme" : "url" };
  if (scheme === "isni" || /ISNI/.test(detail)) return { code: /check character is wrong/.test(detail) ? "isni_check" : "isni" };
  if (scheme === "wikidata" || /Wikidata/.test(detail)) return { code: "wikidata" };
  if (scheme === "sha256" || /sha256|SHA-256/.test(detail)) return { code: "sha256" };
  if (scheme === "name") return { code: "name" };
  if (/Field required/.test(detail)) return { code: "required" };
  return { code: "invalid", raw: true };
}

function itemText(code, values) {
  if (code === "missing") {
    return message("missing", { regime: t(`regime.${values.regime}`), requirement: t(`req.${values.regime}.${values.pointer}`) });
  }
  return message(code, values);
}

/** A check's finding (pointer, code, values) as a shown item: which field, its label, the message. */
export function item(pointer, code, values = {}, map = [], detail = null) {
  const entry = pointer === null ? null : locate(pointer, map);
  const field = entry ? document.getElementById(entry.field) : null;
  let label = fieldName(field);
  if (label && entry && entry.line) label = t("err.field_line", { field: label, line: entry.line });
  return { pointer, field, label, text: itemText(code, values), detail };
}

/** The shown items for a registry problem (RFC 9457, with `errors` of pointer and detail). */
export function problemItems(problem, map = []) {
  const slug = String(problem.type || "").split("/").pop();
  const errors = Array.isArray(problem.errors) ? problem.errors : [];
  // The personal part's fields (contact, where to notify) are the form's own, under /personal/data.
  const personal = slug === "invalid-personal-part";
  if ((slug === "invalid-document" || personal) && errors.length) {
    return errors.map((error) => {
      const raw = String(error.pointer || "");
      const pointer = personal && raw.startsWith("/personal/data/") ? raw.slice("/personal/data".length) : raw;
      const found = classify(pointer, error.detail, locate(pointer, map));
      return item(pointer, found.code, found.values || {}, map, found.raw ? error.detail : null);
    });
  }
  const key = has(`err.type.${slug}`) ? `err.type.${slug}` : "err.type.unknown";
  const known = key !== "err.type.unknown";
  return [{ pointer: null, field: null, label: "", text: t(key), detail: known ? null : problem.detail || null }];
}

const created = new Set(); // message elements this module added, removed by clearErrors

export function clearErrors() {
  for (const element of created) element.remove();
  created.clear();
  for (const field of document.querySelectorAll("[aria-invalid]")) field.removeAttribute("aria-invalid");
  for (const field of document.querySelectorAll("[data-described]")) {
    const original = field.dataset.described;
    if (original) field.setAttribute("aria-describedby", original);
    else field.removeAttribute("aria-describedby");
    delete field.dataset.described;
  }
  for (const field of document.querySelectorAll(".invalid")) field.classList.remove("invalid");
  const box = document.getElementById("form-errors");
  if (box) {
    box.hidden = true;
    box.querySelector("ul").replaceChildren();
  }
}

function describe(control, id) {
  if (!("described" in control.dataset)) control.dataset.described = control.getAttribute("aria-describedby") || "";
  const ids = (control.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
  if (!ids.includes(id)) control.setAttribute("aria-describedby", [id, ...ids].join(" "));
}

function markField(field, text) {
  const id = `${field.id}-error`;
  let note = document.getElementById(id);
  if (!note) {
    note = document.createElement("p");
    note.id = id;
    note.className = "field-error";
    if (field.matches("fieldset")) {
      const legend = field.querySelector("legend");
      if (legend) legend.after(note);
      else field.prepend(note);
    } else if (field.matches("input[type=checkbox], input[type=radio]")) {
      (field.closest(".statement, .use, .regime, label") || field).after(note);
    } else {
      field.after(note);
    }
    created.add(note);
  }
  const line = document.createElement("span");
  line.textContent = text;
  note.append(line);
  field.classList.add("invalid");
  const controls = field.matches("fieldset") ? [field, ...field.querySelectorAll("input, textarea, select")] : [field];
  for (const control of controls) {
    describe(control, id);
    if (control.matches("input:not([type=checkbox]):not([type=radio]), textarea, select")) control.setAttribute("aria-invalid", "true");
  }
}

/** Show the items: each beside its field, all in the summary; the summary is focused and in view. */
export function showErrors(items, { links = [] } = {}) {
  clearErrors();
  const box = document.getElementById("form-errors");
  const list = box.querySelector("ul");
  for (const shown of items) {
    if (shown.field) markField(shown.field, shown.detail ? `${shown.text} (${shown.detail})` : shown.text);
    const entry = document.createElement("li");
    const words = shown.label ? `${shown.label}: ${shown.text}` : shown.text;
    if (shown.field) {
      const anchor = document.createElement("a");
      anchor.href = `#${shown.field.id}`;
      anchor.textContent = words;
      anchor.addEventListener("click", (event) => {
        event.preventDefault();
        const target = shown.field.matches("fieldset") ? shown.field.querySelector("input, textarea, select") : shown.field;
        shown.field.scrollIntoView({ block: "center" });
        target?.focus();
      });
      entry.append(anchor);
    } else {
      entry.append(words);
    }
    if (shown.detail) {
      const said = document.createElement("small");
      said.lang = "en";
      said.textContent = ` ${t("err.server_detail")}${shown.detail}`;
      entry.append(said);
    }
    list.append(entry);
  }
  for (const link of links) {
    const entry = document.createElement("li");
    const anchor = document.createElement("a");
    anchor.href = link.href;
    anchor.textContent = link.text;
    entry.append(anchor);
    list.append(entry);
  }
  box.hidden = items.length + links.length === 0;
  if (!box.hidden) {
    box.scrollIntoView({ block: "start" });
    box.focus({ preventScroll: true });
  }
}

/** Tell that signing needs a key, with the way to the key page; in view, on every form. */
export function showKeyNeeded() {
  showErrors([{ pointer: null, field: null, label: "", text: t("err.key_needed") }], {
    links: [{ href: "/keys", text: t("keys.needed_link") }],
  });
}
