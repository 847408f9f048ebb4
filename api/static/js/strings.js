// The catalog entries the page's scripts say (api/copy, rendered into a JSON data block by base.html,
// in the page's language), with {name} placeholders filled in. An unknown key shows itself.
let catalog = null;

function load() {
  if (catalog === null) {
    const block = document.getElementById("client-strings");
    try {
      catalog = block ? JSON.parse(block.textContent) : {};
    } catch {
      catalog = {};
    }
  }
  return catalog;
}

export function has(key) {
  return Object.prototype.hasOwnProperty.call(load(), key);
}

export function t(key, values = {}) {
  let text = has(key) ? load()[key] : key;
  for (const [name, value] of Object.entries(values)) text = text.split(`{${name}}`).join(String(value));
  return text;
}

export function lang() {
  return document.documentElement.lang || "ja";
}
