// The inline flag form and the life of one submission:
//   open -> pick a reason -> Submit -> 5 s undo window -> POST (-> retry on failure).
// Three clicks at most (Flag, a reason, Submit). The POST waits out the undo window so Undo
// never has to delete anything on the server; if the panel is hidden or closed first, the
// pending flags leave at once with keepalive so nothing the clinician submitted is lost.

import { el } from "../shared/el.js";
import { api, newKey } from "./api.js";
import { announce } from "./dom.js";

export const UNDO_MS = 5000;

// The last role chosen, for this launch only (kept in memory like the session handle).
let lastRole = null;
// Submissions waiting out their undo window, flushed on pagehide/visibilitychange.
const pending = new Set();
// Per order <li>: its form (kept while detached, so content survives undo and failures).
const entries = new WeakMap();

let hooks = { onSent: () => {}, onExpired: () => {}, onPending: () => {} };

export function configure(newHooks) {
  hooks = { ...hooks, ...newHooks };
}

function entryFor(li, order, button) {
  let entry = entries.get(li);
  if (!entry) {
    entry = { li, order, button, form: null, key: null, timer: null, failed: false, busy: false };
    entries.set(li, entry);
  }
  return entry;
}

const slotOf = (entry) => entry.li.querySelector('[data-slot="order"]');

function buildForm(entry) {
  const template = document.getElementById("flag-form-template");
  const form = template.content.firstElementChild.cloneNode(true);
  // Ids must be unique per order so labels and aria-describedby stay correct.
  const base = entry.li.dataset.orderId.replace(/[^A-Za-z0-9_-]/g, "-");
  form.setAttribute("aria-label", `Flag ${entry.order.display}`);
  form.id = `flag-${base}`;
  if (lastRole) form.elements.reporter_role.value = lastRole;
  // An order a low-value rule marks starts on the reason that rule stands for; the clinician
  // can still pick another.
  const suggested = (entry.order.low_value || [])[0];
  if (suggested) {
    const radio = form.querySelector(`input[name="reason"][value="${CSS.escape(suggested.flag_reason)}"]`);
    if (radio) radio.checked = true;
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit(entry);
  });
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      close(entry);
    }
  });
  form.querySelector('[data-action="cancel"]').addEventListener("click", () => close(entry));
  // "Other" says nothing by itself: the note becomes the reason, so it is required.
  form.addEventListener("change", () => {
    form.querySelector('[data-slot="note-label"]').textContent = otherChosen(form)
      ? "Note (required for Other: say what the reason is)"
      : "Note (optional)";
  });
  return form;
}

const otherChosen = (form) => {
  const checked = form.querySelector('input[name="reason"]:checked');
  return Boolean(checked && checked.value === "other");
};

function focusReason(form) {
  const radios = form.querySelectorAll('input[name="reason"]');
  const checked = form.querySelector('input[name="reason"]:checked');
  (checked || radios[0]).focus();
}

function showForm(entry) {
  entry.form = entry.form || buildForm(entry);
  slotOf(entry).replaceChildren(entry.form);
  delete entry.li.dataset.flagged;
  entry.button.hidden = false;
  entry.button.setAttribute("aria-expanded", "true");
  entry.button.setAttribute("aria-controls", entry.form.id);
  focusReason(entry.form);
}

/** The order's Flag button: open the form in the order's own list item. */
export function openFlagForm(li, order, button) {
  const entry = entryFor(li, order, button);
  if (entry.timer || entry.busy) return;
  if (entry.form && entry.form.isConnected) {
    focusReason(entry.form);
    return;
  }
  showForm(entry);
}

function close(entry) {
  slotOf(entry).replaceChildren();
  entry.button.setAttribute("aria-expanded", "false");
  entry.button.focus();
}

function showError(entry, message, retryable) {
  const slot = entry.form.querySelector('[data-slot="form-error"]');
  const alert = el("p", { role: "alert", class: "error", "data-testid": "submit-error" }, message);
  slot.replaceChildren(alert);
  if (retryable) {
    const retry = el("button", {
      type: "button",
      class: "secondary",
      "data-action": "retry-flag",
      text: "Try again",
    });
    retry.addEventListener("click", () => send(entry, false));
    slot.append(retry);
  }
}

function clearError(entry) {
  entry.form.querySelector('[data-slot="form-error"]').replaceChildren();
}

function payload(entry) {
  const form = entry.form;
  const note = form.elements.note.value.trim();
  return {
    resource_type: entry.order.resource_type,
    order_id: entry.order.fhir_id,
    reason: form.querySelector('input[name="reason"]:checked').value,
    driver: form.elements.driver.value || null,
    anonymity: form.querySelector('input[name="anonymity"]:checked').value,
    note: note || null,
    reporter_role: form.elements.reporter_role.value,
    // One key per submission, reused by every retry: the server answers a repeat with the
    // flag it already made, so a retry or double click never makes two flags.
    idempotency_key: entry.key,
  };
}

function submit(entry) {
  if (entry.busy) return;
  const form = entry.form;
  if (!form.querySelector('input[name="reason"]:checked')) {
    showError(entry, "Choose a reason first.", false);
    focusReason(form);
    return;
  }
  if (otherChosen(form) && !form.elements.note.value.trim()) {
    showError(entry, "Reason Other needs a note: say what the reason is.", false);
    form.elements.note.setAttribute("aria-invalid", "true");
    form.elements.note.focus();
    return;
  }
  form.elements.note.removeAttribute("aria-invalid");
  lastRole = form.elements.reporter_role.value;
  entry.key = entry.key || newKey();
  clearError(entry);
  // After a failed send the undo window has already passed: try again straight away.
  if (entry.failed) {
    send(entry, false);
    return;
  }
  startUndoWindow(entry);
}

function startUndoWindow(entry) {
  const undo = el("button", { type: "button", class: "secondary", "data-action": "undo" }, "Undo");
  undo.addEventListener("click", () => cancelPending(entry));
  entry.li.dataset.flagged = "true";
  entry.button.hidden = true;
  entry.button.setAttribute("aria-expanded", "false");
  slotOf(entry).replaceChildren(
    el("div", { class: "flagged" }, el("p", { class: "flagged-text", tabindex: "-1", text: "Flagged" }), undo),
  );
  undo.focus();
  announce(`Flagged ${entry.order.display}. Sending in 5 seconds; choose Undo to cancel.`);
  entry.timer = window.setTimeout(() => send(entry, false), UNDO_MS);
  pending.add(entry);
  hooks.onPending(pendingOrders());
}

/** The orders waiting out their undo window, for "My flags" to show as pending. */
export function pendingOrders() {
  return [...pending].map((entry) => ({
    order_display: entry.order.display,
    anonymity: entry.form ? entry.form.querySelector('input[name="anonymity"]:checked').value : "identified",
  }));
}

function cancelPending(entry) {
  window.clearTimeout(entry.timer);
  entry.timer = null;
  pending.delete(entry);
  hooks.onPending(pendingOrders());
  // Nothing reached the server, so the next submission may have a new key.
  entry.key = null;
  showForm(entry);
  announce("Flag cancelled. Nothing was sent.");
}

async function send(entry, keepalive) {
  if (entry.busy) return;
  window.clearTimeout(entry.timer);
  entry.timer = null;
  pending.delete(entry);
  hooks.onPending(pendingOrders());
  entry.busy = true;
  const body = payload(entry);
  const slot = slotOf(entry);
  const hadFocus = slot.contains(document.activeElement);
  const retry = slot.querySelector('[data-action="retry-flag"]');
  if (retry) retry.disabled = true;
  const undo = slot.querySelector('[data-action="undo"]');
  if (undo) {
    undo.remove();
    const text = slot.querySelector(".flagged-text");
    text.textContent = "Flagged · sending…";
    if (hadFocus) text.focus();
  }
  try {
    await api("/flags", { method: "POST", body, keepalive });
  } catch (error) {
    entry.busy = false;
    if (error.expired) {
      hooks.onExpired();
      return;
    }
    entry.failed = true;
    showForm(entry);
    const detail = error.problem.detail || error.message;
    showError(entry, `The flag was not sent: ${detail}`, error.retryable);
    announce("The flag was not sent. Your choices are kept.");
    return;
  }
  entry.busy = false;
  entry.failed = false;
  entry.form = null;
  entry.key = null;
  entry.li.dataset.flagged = "true";
  entry.button.hidden = true;
  entry.button.setAttribute("aria-expanded", "false");
  const text = el("p", { class: "flagged-text", tabindex: "-1" }, "Flagged");
  slot.replaceChildren(el("div", { class: "flagged" }, text, el("span", { class: "muted-inline", text: "Sent to the quality team" })));
  if (slot.contains(document.activeElement) || hadFocus || document.activeElement === document.body) {
    text.focus();
  }
  announce(`Flag sent for ${entry.order.display}.`);
  hooks.onSent();
}

/** Send every flag still in its undo window now (the panel is being hidden or closed). */
export function flushPending() {
  for (const entry of [...pending]) send(entry, true);
}
