/**
 * Widget parts loaded only when needed, to keep the first load small: the new-reply chime (when the user turned
 * the sound on) and the links between a closed ticket and its follow-ups.
 */

import { h, replace } from "../dom.js";

/** A short two-note chime made with Web Audio (no sound file to download); silent where audio is refused. */
export function chime(w) {
  try {
    w.audio = w.audio || new AudioContext();
    const at = w.audio.currentTime;
    [880, 1320].forEach((freq, i) => {
      const osc = w.audio.createOscillator();
      const gain = w.audio.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.08, at + i * 0.12);
      gain.gain.exponentialRampToValueAtTime(0.001, at + i * 0.12 + 0.25);
      osc.connect(gain).connect(w.audio.destination);
      osc.start(at + i * 0.12);
      osc.stop(at + i * 0.12 + 0.25);
    });
    // Counted on the element, so a test (or a curious host) can tell that the sound was played.
    w.host.dataset.chimes = String(Number(w.host.dataset.chimes || 0) + 1);
  } catch { /* no audio here */ }
}

/** "Follow-up of …" / "Continued in …" above the thread: the links between tickets, both ways, each one clickable. */
export function renderLinks(w, tk) {
  const link = (hl, label, id) => h("p", { hl, class: "muted" }, `${label}: `,
    h("button", { type: "button", class: "link", dataset: { ticket: id }, onclick: () => w.openTicket(id) },
      w.tickets.get(id)?.subject || id));
  const ups = [...w.tickets.values()].filter((x) => x.follow_up_of === tk.id).map((x) => x.id);
  replace(w.linksEl, tk.follow_up_of ? link("follow-up-of", w.t.followUpOf, tk.follow_up_of) : null,
    ups.map((id) => link("followed-up-in", w.t.followedUpIn, id)));
}
