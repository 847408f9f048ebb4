// Times in the reader's own zone: every <time datetime="…"> the server rendered in UTC is rewritten
// with the browser's zone and the page's language (the UTC text stays in the title). Text only.
const lang = document.documentElement.lang || "ja";
let format;
try {
  // Fields, not dateStyle/timeStyle: those cannot be combined with timeZoneName.
  format = new Intl.DateTimeFormat(lang, {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short",
  });
} catch {
  format = null;
}

export function localTimes(root = document) {
  if (!format) return;
  for (const element of root.querySelectorAll("time[datetime]")) {
    const moment = new Date(element.getAttribute("datetime"));
    if (Number.isNaN(moment.getTime())) continue;
    if (!element.title) element.title = element.textContent.trim();
    element.textContent = format.format(moment);
    element.dataset.local = "true";
  }
}

localTimes();
