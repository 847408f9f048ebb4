// RFC 8785 JSON Canonicalization Scheme, as keys/canonical.py computes it.
//
// Why this is short: RFC 8785 defines its number and string forms by ECMAScript's own
// Number.prototype.toString and JSON.stringify, so the browser's built-ins are the reference
// implementation. What is left is the key order (UTF-16 code units, which is what Array.sort
// compares) and refusing what has no canonical form: NaN, Infinity, lone surrogates, undefined.

function checkString(text) {
  if (typeof text.isWellFormed === "function" ? !text.isWellFormed() : /\p{Cs}/u.test(text)) {
    throw new TypeError("a string holds a lone surrogate, which has no canonical form");
  }
  return JSON.stringify(text);
}

export function canonicalize(value) {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isFinite(value)) throw new TypeError("NaN and Infinity have no canonical form");
      return String(value); // -0 prints as "0", as RFC 8785 wants
    case "string":
      return checkString(value);
    case "object": {
      if (Array.isArray(value)) return "[" + value.map(canonicalize).join(",") + "]";
      const names = Object.keys(value).sort();
      const members = names.map((name) => {
        if (value[name] === undefined) throw new TypeError(`member ${name} is undefined`);
        return checkString(name) + ":" + canonicalize(value[name]);
      });
      return "{" + members.join(",") + "}";
    }
    default:
      throw new TypeError(`a ${typeof value} is not JSON`);
  }
}

export function canonicalBytes(value) {
  return new TextEncoder().encode(canonicalize(value));
}
