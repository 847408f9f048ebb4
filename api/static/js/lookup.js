// Look a file up by dropping it (or choosing it): its SHA-256 and, for an image, its PDQ hash (with
// the 7 rotated and mirrored variants) are computed here and searched for; the file itself never
// leaves the browser (the search sends only hex digits). A PDQ hash below the registry's quality
// threshold is not sent: the page is told only its quality, to say why.
import { hex, sha256 } from "./crypto.js";
import { pdqOfImage } from "./pdq.js";
import { t } from "./strings.js";

const zone = document.getElementById("drop");
const input = document.getElementById("drop-file");
const status = document.getElementById("drop-status");
const minQuality = Number(zone.dataset.pdqMinQuality || "50");

/** The /lookup address for a file: its SHA-256, plus its PDQ or, if too flat to send, its quality. */
export function lookupAddress(digest, pdq) {
  const query = new URLSearchParams({ scheme: "sha256", q: digest });
  if (pdq && pdq.quality >= minQuality) {
    query.set("pdq", pdq.hash);
    query.set("pdq_quality", String(pdq.quality));
    query.set("pdq_variants", pdq.variants.join(","));
  } else if (pdq) {
    query.set("pdq_quality", String(pdq.quality));
  }
  return `/lookup?${query}`;
}

async function lookUp(chosen) {
  if (!chosen) return;
  status.textContent = t("lookup.hashing");
  const digest = hex(await sha256(new Uint8Array(await chosen.arrayBuffer())));
  const pdq = await pdqOfImage(chosen);
  window.location.assign(lookupAddress(digest, pdq));
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
