// Look a file up by dropping it (or choosing it): its SHA-256 is computed here and searched for; the
// file itself never leaves the browser (the search sends only the 64 hex digits).
import { hex, sha256 } from "./crypto.js";
import { t } from "./strings.js";

const zone = document.getElementById("drop");
const input = document.getElementById("drop-file");
const status = document.getElementById("drop-status");

async function lookUp(chosen) {
  if (!chosen) return;
  status.textContent = t("lookup.hashing");
  const digest = hex(await sha256(new Uint8Array(await chosen.arrayBuffer())));
  window.location.assign(`/lookup?scheme=sha256&q=${digest}`);
}

input.addEventListener("change", () => lookUp(input.files[0]));
for (const name of ["dragenter", "dragover"]) {
  zone.addEventListener(name, (event) => {
    event.preventDefault();
    zone.classList.add("dragging");
  });
}
zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
zone.addEventListener("drop", (event) => {
  event.preventDefault();
  zone.classList.remove("dragging");
  lookUp(event.dataTransfer?.files?.[0]);
});
