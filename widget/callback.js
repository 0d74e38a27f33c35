/**
 * Premium support channels from GET /api/support/options: the phone line and a "Request a callback" form.
 * Loaded by the widget and the Support tab only for premium users; a callback is also a ticket (onTicket).
 */

import { h } from "./dom.js";
import { newClientId } from "./client.js";

/** The options box, or null when the plan has neither phone nor callback. onTicket(id): the callback's ticket. */
export async function supportOptions(client, t, onTicket) {
  let channels;
  try {
    channels = (await client.api("GET", "/api/support/options")).channels || [];
  } catch {
    return null;
  }
  const phone = channels.find((c) => c.kind === "phone");
  const callback = channels.find((c) => c.kind === "callback");
  if (!phone && !callback) return null;
  const box = h("div", { hl: "support-options", class: "notice options" });
  if (phone) {
    box.append(h("div", { hl: "phone" }, h("strong", { text: t.phoneLine + ": " }),
      h("a", { href: "tel:" + phone.number.replace(/[^0-9+]/g, ""), text: phone.number }),
      phone.hours ? h("div", { class: "muted", text: phone.hours }) : null));
  }
  if (callback) {
    const open = h("button", { hl: "callback", type: "button", onclick: () => { open.hidden = true; form.hidden = false; } },
      t.callback);
    const number = h("input", { hl: "callback-phone", type: "tel", required: true, minlength: "6", maxlength: "40",
      autocomplete: "tel" });
    const when = h("input", { hl: "callback-time", maxlength: "200" });
    const note = h("input", { hl: "callback-note", maxlength: "2000" });
    const error = h("p", { class: "notice", role: "alert", hidden: true });
    const clientId = newClientId();
    const form = h("form", { hl: "callback-form", hidden: true, onsubmit: async (ev) => {
      ev.preventDefault();
      error.hidden = true;
      try {
        const cb = await client.api("POST", "/api/callbacks", {
          phone: number.value.trim(), preferred_time: when.value.trim() || null, note: note.value.trim() || null,
          client_id: clientId,
        });
        form.replaceChildren(h("p", { hl: "callback-done", text: t.callbackSent }));
        if (onTicket) onTicket(cb.ticket);
      } catch (err) {
        error.textContent = err.message || t.error;
        error.hidden = false;
      }
    } }, h("label", {}, t.callbackPhone, number), h("label", {}, t.callbackTime, when),
      h("label", {}, t.callbackNote, note), error, h("button", { class: "primary", type: "submit" }, t.callback));
    box.append(open, form);
  }
  return box;
}
