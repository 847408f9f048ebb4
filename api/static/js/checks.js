// Checks the page makes before signing, mirroring the registry's own (registry/content_ids.py,
// registry/schemes.py): each returns a problem code (the catalog's err.{code}) or null. The registry
// stays the judge — what passes here may still be refused there (a URL whose domain is not under the
// Public Suffix List), and then its answer is said in these same words.

/** A URL the registry could take: http(s), a host with a dot and a top-level label of letters. */
export function urlProblem(value) {
  let url;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `https:\/\/${value}`);
  } catch {
    return "url";
  }
  if (!["http:", "https:"].includes(url.protocol)) return "url";
  const labels = url.hostname.split(".");
  if (labels.length < 2 || !/^(xn--[a-z0-9-]+|[a-z\u00a1-\uffff]{2,})$/i.test(labels[labels.length - 1])) return "url";
  return null;
}

/** A material location URL (registry.notices.documents.Location): http(s)://host…, no spaces. */
export function locationUrlProblem(value) {
  return /^https?:\/\/[^\s/?#]+\S*$/.test(value) ? null : "url_scheme";
}

function isniCheckCharacter(digits) {
  let total = 0;
  for (const digit of digits) total = (total + Number(digit)) * 2;
  const result = (12 - (total % 11)) % 11;
  return result === 10 ? "X" : String(result);
}

/** ISO 27729 ISNI: 16 characters (grouped by spaces or hyphens, or not), ISO 7064 check character. */
export function isniProblem(value) {
  let text = value.trim();
  const url = /^https?:\/\/(?:www\.)?isni\.org\/isni\/(.*)$/i.exec(text);
  const label = url ? null : /^ISNI:?\s*(.*)$/i.exec(text);
  text = url ? url[1] : label ? label[1] : text;
  if (!/^[0-9]{4}([ -]?)[0-9]{4}\1[0-9]{4}\1[0-9]{3}[0-9Xx]$/.test(text)) return "isni";
  const compact = text.replace(/[ -]/g, "").toUpperCase();
  return compact[15] === isniCheckCharacter(compact.slice(0, 15)) ? null : "isni_check";
}

export function wikidataProblem(value) {
  return /^(?:wd:|https?:\/\/(?:www\.|m\.)?wikidata\.org\/(?:wiki|entity)\/)?[Qq][1-9][0-9]{0,11}$/i.test(value.trim())
    ? null
    : "wikidata";
}

export function nameProblem(value) {
  return value.length > 200 ? "name" : null;
}

export function claimIdProblem(value) {
  return /^[0-9a-fA-F]{64}$/.test(value) ? null : "claim_id";
}

/** did:key (z6Mk… for Ed25519) or did:web (a lower-case domain, then optional path segments). */
export function didProblem(value) {
  if (/^did:key:z[1-9A-HJ-NP-Za-km-z]{40,60}$/.test(value)) return null;
  if (/^did:web:(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}(?:%3A[0-9]{1,5})?(?::[A-Za-z0-9._~-]+)*$/.test(value)) return null;
  return "did";
}

export function emailProblem(value) {
  return /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(value) ? null : "email";
}

export function tooLong(value, max) {
  return [...value].length > max ? { code: "too_long", values: { max } } : null;
}
