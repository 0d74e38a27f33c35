/**
 * Canned replies on the agent dashboard: pick one → rendered for the open ticket by the server
 * (POST /api/canned/{id}/render) → inserted into the reply box; and a small manager to create, edit and delete them.
 */

import { h, replace } from "../dom.js";
import { t } from "../i18n.js";

let cache = null; // Promise of the list, shared by every picker on the page
const pickers = new Set(); // live <select>s, refilled after the manager changes something

function load(client, fresh = false) {
  if (!cache || fresh) cache = client.api("GET", "/api/canned").catch(() => []);
  return cache;
}

async function fill(client, select, fresh = false) {
  const list = await load(client, fresh);
  replace(select, h("option", { value: "", text: t("desk.cannedPick") }),
    list.map((c) => h("option", { value: c.id, text: c.title })));
}

/** Put `text` where the cursor is (replacing a selection) and tell the box's listeners it changed. */
function insertAt(box, text) {
  const start = box.selectionStart ?? box.value.length;
  const end = box.selectionEnd ?? box.value.length;
  box.value = box.value.slice(0, start) + text + box.value.slice(end);
  box.selectionStart = box.selectionEnd = start + text.length;
  box.focus();
  box.dispatchEvent(new Event("input", { bubbles: true }));
}

/** The picker for one ticket's reply box, with its "Manage" button; onError(message) shows failures. */
export function cannedPicker(client, ticket, reply, onError) {
  const select = h("select", { hl: "canned", "aria-label": t("desk.cannedInsert"), onchange: async () => {
    const id = select.value;
    if (!id) return;
    try {
      const { body } = await client.api("POST", `/api/canned/${encodeURIComponent(id)}/render`, { ticket });
      insertAt(reply, body);
    } catch (err) {
      onError(err.message);
    }
    select.value = "";
  } });
  pickers.add(select);
  fill(client, select);
  const manage = h("button", { hl: "canned-manage", type: "button", onclick: () => openManager(client, onError) }, t("desk.cannedManage"));
  return h("span", { class: "row" }, select, manage);
}

function refreshPickers(client) {
  for (const select of pickers) {
    if (!select.isConnected) pickers.delete(select);
  }
  load(client, true);
  for (const select of pickers) fill(client, select);
}

/** The manager: a <dialog> listing the replies, with one form for a new or the picked reply. */
function openManager(client, onError) {
  const title = h("input", { hl: "canned-title", required: true, maxlength: "200", placeholder: t("desk.cannedTitle") });
  const body = h("textarea", { hl: "canned-body", required: true, rows: "5",
    placeholder: "Hello {{customer.name}}, … ({{ticket.subject}}, {{agent.name}})" });
  const list = h("ul", { hl: "canned-list" });
  const error = h("p", { class: "warning", role: "alert", hidden: true });
  let editing = null;
  const fail = (err) => {
    error.textContent = err.message;
    error.hidden = false;
  };
  const edit = (c) => {
    editing = c ? c.id : null;
    title.value = c ? c.title : "";
    body.value = c ? c.body : "";
    title.focus();
  };
  const render = async () => {
    const rows = await load(client, true);
    replace(list, rows.map((c) => h("li", { hl: "canned-item", dataset: { canned: c.id } },
      h("span", { text: c.title }),
      h("span", {}, h("button", { type: "button", hl: "canned-edit", onclick: () => edit(c) }, t("desk.cannedEdit")), " ",
        h("button", { type: "button", hl: "canned-delete", onclick: async () => {
          try {
            await client.api("DELETE", `/api/canned/${encodeURIComponent(c.id)}`);
            if (editing === c.id) edit(null);
            await render();
            refreshPickers(client);
          } catch (err) {
            fail(err);
          }
        } }, t("desk.cannedDelete"))))));
  };
  const dialog = h("dialog", { hl: "canned-manager", onclose: () => dialog.remove() },
    h("h3", {}, t("desk.cannedReplies"), h("button", { type: "button", hl: "canned-close", onclick: () => dialog.close() }, t("desk.close"))),
    list,
    h("form", { onsubmit: async (ev) => {
      ev.preventDefault();
      error.hidden = true;
      try {
        const data = { title: title.value.trim(), body: body.value };
        if (editing) await client.api("PATCH", `/api/canned/${encodeURIComponent(editing)}`, data);
        else await client.api("POST", "/api/canned", data);
        edit(null);
        await render();
        refreshPickers(client);
      } catch (err) {
        fail(err);
      }
    } }, title, body, error, h("span", { class: "row" },
      h("button", { hl: "canned-save", class: "primary", type: "submit" }, t("desk.save")),
      h("button", { type: "button", onclick: () => edit(null) }, t("desk.new")))));
  document.body.append(dialog);
  dialog.showModal();
  render().catch(onError);
}
