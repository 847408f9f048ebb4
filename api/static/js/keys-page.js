import { forgetKey, generateKey, importJwk, rememberKey } from "./crypto.js";
import { downloadLink, showKeyStatus } from "./common.js";

const message = document.getElementById("key-message");
const download = document.getElementById("download-key");
const forget = document.getElementById("forget-key");

async function refresh() {
  const key = await showKeyStatus();
  download.disabled = forget.disabled = !key;
  return key;
}

function save(key) {
  const anchor = document.createElement("a");
  downloadLink(anchor, key.keyFile(), "kotowari.key");
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
}

document.getElementById("generate-key").addEventListener("click", async () => {
  try {
    const key = await generateKey();
    rememberKey(key);
    await refresh();
    message.textContent = key.did;
  } catch (error) {
    message.textContent = String(error.message || error);
  }
});

download.addEventListener("click", async () => {
  const key = await refresh();
  if (key) save(key);
});

document.getElementById("load-key").addEventListener("change", async (event) => {
  const [chosen] = event.target.files;
  if (!chosen) return;
  try {
    const key = await importJwk(JSON.parse(await chosen.text()));
    rememberKey(key);
    await refresh();
    message.textContent = key.did;
  } catch (error) {
    message.textContent = String(error.message || error);
  }
});

forget.addEventListener("click", async () => {
  forgetKey();
  await refresh();
  message.textContent = "";
});

refresh();
