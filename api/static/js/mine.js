// The notices filed from this browser: their ids (localStorage, nothing secret), the state each had
// when last seen here, and a list with titles and states that says which changed since.
import { localTimes } from "./times.js";
import { t } from "./strings.js";

const MINE = "kotowari.notices";
const SEEN = "kotowari.notices.seen";

export function mine() {
  try {
    const ids = JSON.parse(localStorage.getItem(MINE) || "[]");
    return Array.isArray(ids) ? ids.filter((id) => /^[0-9a-f]{64}$/.test(id)) : [];
  } catch {
    return [];
  }
}

function seenStates() {
  try {
    const seen = JSON.parse(localStorage.getItem(SEEN) || "{}");
    return seen && typeof seen === "object" && !Array.isArray(seen) ? seen : {};
  } catch {
    return {};
  }
}

/** The state this browser last saw `id` in (null if never), and record `state` as seen now. */
export function markSeen(id, state) {
  const seen = seenStates();
  const before = typeof seen[id] === "string" ? seen[id] : null;
  seen[id] = state;
  localStorage.setItem(SEEN, JSON.stringify(seen));
  return before;
}

export function remember(id) {
  localStorage.setItem(MINE, JSON.stringify([id, ...mine().filter((known) => known !== id)].slice(0, 50)));
  markSeen(id, "filed");
}

async function load(id) {
  try {
    const response = await fetch(`/v1/notices/${id}`, { headers: { Accept: "application/json" }, credentials: "omit" });
    return response.ok ? await response.json() : null;
  } catch {
    return null;
  }
}

/** Fill #my-notices: title, state (and what it was when last seen here), operator, filing time. */
export async function listMine() {
  const ids = mine().slice(0, 20);
  const section = document.getElementById("my-notices");
  if (!section) return;
  section.hidden = ids.length === 0;
  const seen = seenStates();
  const rows = await Promise.all(ids.map(load));
  section.querySelector("ul").replaceChildren(...ids.map((id, number) => {
    const notice = rows[number];
    const entry = document.createElement("li");
    entry.dataset.notice = id;
    const link = document.createElement("a");
    link.href = `/notices/${id}`;
    const title = notice?.document?.subject?.title;
    link.textContent = title || t("mine.untitled");
    entry.append(link, " ");
    const code = document.createElement("code");
    code.className = "id";
    code.textContent = id;
    if (!notice) {
      entry.append(`(${t("mine.unavailable")}) `, code);
      return entry;
    }
    const state = document.createElement("span");
    state.className = "state";
    state.dataset.state = notice.state;
    state.textContent = t(`state.${notice.state}`);
    entry.append(state);
    const before = seen[id];
    if (typeof before === "string" && before !== notice.state) {
      entry.dataset.changed = "true";
      const badge = document.createElement("strong");
      badge.className = "changed";
      badge.textContent = ` ${t("mine.changed")} (${t("mine.changed_from", { state: t(`state.${before}`) })})`;
      entry.append(badge);
    }
    const operator = notice.operator_profile?.name;
    const when = document.createElement("time");
    when.dateTime = notice.received_at || "";
    when.textContent = notice.received_at || "";
    entry.append(document.createElement("br"), ...(operator ? [operator, " · "] : []), when, " ", code);
    return entry;
  }));
  localTimes(section);
}
