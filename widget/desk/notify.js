/**
 * Never miss work: browser notifications and a title badge for new tickets that show in the agent's queue (as
 * filtered now) and for replies on tickets assigned to them. Permission is asked only when the agent clicks
 * "Enable notifications" (browsers refuse a prompt without a gesture). The badge, "(3) Agent dashboard", counts
 * what came in and has not been opened yet; opening the ticket takes it off. Nothing fires for the ticket the
 * agent is looking at.
 */

import { h } from "../dom.js";

/**
 * client: the HelplineClient; meId(): the agent; openId(): the ticket shown (or null); inQueue(id): whether the
 * queue as filtered now lists it; onOpen(id): the dashboard opens a ticket from a notification click.
 */
export function notifier(client, t, { meId, openId, inQueue, onOpen }) {
  const baseTitle = document.title;
  const seen = new Map(); // ticket id -> last_seq we know of
  const unseen = new Set(); // ticket ids with news not opened yet
  const supported = typeof Notification !== "undefined";
  const button = h("button", { type: "button", hl: "notify-enable", class: "notify" });

  const drawButton = () => {
    const p = supported ? Notification.permission : "denied";
    button.dataset.permission = p;
    button.disabled = p !== "default";
    button.textContent = p === "granted" ? t.notificationsOn : p === "denied" ? t.notificationsBlocked : t.enableNotifications;
  };
  button.addEventListener("click", async () => {
    if (supported && Notification.permission === "default") await Notification.requestPermission();
    drawButton();
  });
  drawButton();

  const drawTitle = () => {
    document.title = unseen.size ? `(${unseen.size}) ${baseTitle}` : baseTitle;
  };

  function tell(tk, text) {
    if (openId() === tk.id && !document.hidden) return;
    unseen.add(tk.id);
    drawTitle();
    if (!supported || Notification.permission !== "granted") return;
    try {
      const note = new Notification(text, { body: tk.customer?.name || "", tag: `helpline-${tk.id}` });
      note.onclick = () => {
        window.focus();
        onOpen(tk.id);
        note.close();
      };
    } catch { /* some browsers only notify from a service worker: the title badge still says it */ }
  }

  const seed = (list) => {
    for (const tk of list) seen.set(tk.id, Math.max(seen.get(tk.id) || 0, tk.last_seq || 0));
  };
  client.on("queue", (f) => seed(f.tickets || []));

  /** A ticket frame arrived (called after the dashboard redrew its queue, so inQueue() is current). */
  function ticket(tk) {
    const before = seen.get(tk.id);
    seen.set(tk.id, Math.max(before || 0, tk.last_seq || 0));
    if (before === undefined) {
      if (tk.status === "open" && inQueue(tk.id)) tell(tk, t.newTicketNote(tk.subject));
      return;
    }
    const assignee = tk.assignee && typeof tk.assignee === "object" ? tk.assignee.id : tk.assignee;
    if ((tk.last_seq || 0) > before && assignee === meId()) tell(tk, t.newReplyNote(tk.subject));
  }

  /** The agent opened a ticket: its news are read. */
  function opened(id) {
    if (unseen.delete(id)) drawTitle();
  }

  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && openId()) opened(openId());
  });
  return { button, seed, ticket, opened };
}
