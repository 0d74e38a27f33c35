/**
 * Attachments in the browser, shared by the three surfaces and loaded only when a thread is shown: upload a file or
 * a pasted screenshot, and show an attachment as an image preview or a download link. Files are fetched with the
 * bearer token into a blob: URL; nothing here ever builds markup from a string.
 */

import { httpError, newClientId } from "./client.js";
import { h } from "./dom.js";

const IMAGE = /^image\/(png|jpeg|gif|webp)$/;
const files = new Map(); // attachment id -> Promise<{url, type}>, so a message shown twice fetches once

/** Upload one file to a ticket; the server posts the thread message that shows it (the client_id makes it once). */
export async function upload(client, ticket, file, name) {
  const q = `?filename=${encodeURIComponent(name || file.name || "screenshot.png")}&client_id=${newClientId()}`;
  const res = await fetch(`${client.base}/api/tickets/${encodeURIComponent(ticket)}/attachments${q}`, {
    method: "POST", body: file,
    headers: { Authorization: "Bearer " + client.token, "Content-Type": file.type || "application/octet-stream" },
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw httpError(res, data);
  return data;
}

/** Fill `el` with attachment `id`: an <img> for images, else a download link named `label`. */
export function show(client, id, el, label, t) {
  if (!files.has(id)) {
    files.set(id, fetch(`${client.base}/api/attachments/${encodeURIComponent(id)}`, {
      headers: { Authorization: "Bearer " + client.token },
    }).then((res) => {
      if (!res.ok) throw new Error(String(res.status));
      return res.blob();
    }).then((blob) => ({ url: URL.createObjectURL(blob), type: blob.type.split(";")[0].trim().toLowerCase() })));
  }
  files.get(id).then(({ url, type }) => {
    el.replaceChildren(IMAGE.test(type)
      ? h("a", { href: url, target: "_blank", rel: "noopener", title: label },
        h("img", { hl: "attachment-image", src: url, alt: label, class: "preview" }))
      : h("a", { hl: "attachment-link", href: url, download: label, text: label }));
  }, () => {
    files.delete(id);
    el.textContent = `${label} (${t.fileUnavailable})`;
  });
}

/**
 * Wire a composer for attachments: a button that picks files and paste of images into `input`. onState(text) is
 * told "uploading…" ('' when done) or an error message. Returns [button, hidden file input] to place together.
 */
export function attachControls(client, ticket, input, t, onState) {
  const send = async (list) => {
    for (const file of list) {
      onState(t.uploading);
      try {
        await upload(client, ticket(), file, file.name || `screenshot-${Date.now()}.png`);
        onState("");
      } catch (err) {
        onState(err.message || t.error);
      }
    }
  };
  const picker = h("input", { type: "file", hidden: true, hl: "attach-input", accept: "image/*,.log,.txt", multiple: true,
    onchange: () => { send([...picker.files]); picker.value = ""; } });
  input.addEventListener("paste", (ev) => {
    const pasted = [...(ev.clipboardData ? ev.clipboardData.files : [])].filter((f) => IMAGE.test(f.type));
    if (!pasted.length) return;
    ev.preventDefault();
    send(pasted);
  });
  return [h("button", { hl: "attach", type: "button", title: t.attach, "aria-label": t.attach, onclick: () => picker.click() },
    t.attachShort), picker];
}
