// What the Admin page's sections share: a confirmation dialog, problem details next to a form,
// and plain tables built from column descriptions.

import { ApiError } from "../../shared/http.js";
import { el } from "../../shared/el.js";

const dialog = document.getElementById("confirm-dialog");

/**
 * Ask before something that cannot be undone. Resolves true only for the confirm button;
 * Escape, Cancel and closing all mean no. Cancel has focus first, so Enter alone never destroys.
 */
export function confirmAction({ title, body, confirmLabel }) {
  dialog.querySelector("#confirm-title").textContent = title;
  dialog.querySelector("#confirm-body").textContent = body;
  dialog.querySelector('[data-slot="confirm"]').textContent = confirmLabel;
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
    dialog.showModal();
  });
}

/** Clear a form's problem box and every field's error (before a new attempt). */
export function clearProblem(form) {
  const box = form.querySelector('[data-slot="problem"]');
  box.hidden = true;
  box.replaceChildren();
  for (const error of form.querySelectorAll("[data-error-for]")) {
    error.hidden = true;
    error.textContent = "";
  }
  for (const control of form.querySelectorAll("[aria-invalid]")) control.removeAttribute("aria-invalid");
}

/** A check made in the page, shaped like the API's 422 so both are shown the same way. */
export function fieldError(field, message) {
  return new ApiError(422, { detail: message, errors: [{ field, message }] });
}

/**
 * Some 422s (an EHR registration the server could not accept) name no field, but quote the
 * value they refused: "'ftp://x' is not an absolute http(s) URL." The control holding exactly
 * that value (or that line, for one-per-line fields) is the one to fix.
 */
function fieldQuoted(form, detail) {
  const quoted = /'([^']+)'/.exec(detail);
  if (!quoted) return null;
  for (const control of form.elements) {
    if (!control.name || control.disabled || control.type === "password") continue;
    const values = control.value.split(/\r?\n/).map((line) => line.trim());
    if (values.includes(quoted[1])) return control.name;
  }
  return null;
}

/** "frame_origins.1" -> "frame_origins": the control that holds the value. */
const controlName = (field) => String(field || "").split(".")[0];

/**
 * Show an API problem next to the form. A 422's `errors` name the fields: each gets its message
 * under it and aria-invalid, and focus goes to the first, so the fix starts where the problem is.
 */
export function showProblem(form, error) {
  const box = form.querySelector('[data-slot="problem"]');
  const problem = error instanceof ApiError ? error.problem : {};
  const fields = Array.isArray(problem.errors) ? problem.errors : [];
  if (!fields.length && problem.field) fields.push({ field: problem.field, message: problem.detail });
  if (!fields.length && problem.detail) {
    const field = fieldQuoted(form, problem.detail);
    if (field) fields.push({ field, message: problem.detail });
  }
  let first = null;
  const unplaced = [];
  for (const { field, message } of fields) {
    const name = controlName(field);
    const control = form.elements[name];
    const slot = form.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
    if (!control || !slot || control.disabled) {
      unplaced.push(`${field}: ${message}`);
      continue;
    }
    // "scopes.1" names the second scope: say which one, counting as people do.
    const index = String(field).split(".")[1];
    const where = /^\d+$/.test(index || "")
      ? `${control.tagName === "TEXTAREA" ? "Line" : "Item"} ${Number(index) + 1}: ` : "";
    const text = `${where}${message}`;
    slot.textContent = slot.textContent ? `${slot.textContent}; ${text}` : text;
    slot.hidden = false;
    control.setAttribute("aria-invalid", "true");
    first = first || control;
  }
  const title = problem.title && problem.title !== "Invalid request" ? `${problem.title}: ` : "";
  box.replaceChildren(el("p", {}, el("strong", { text: title || "Not saved: " }), error.message));
  if (unplaced.length) box.append(el("ul", {}, unplaced.map((text) => el("li", { text }))));
  box.hidden = false;
  if (first) first.focus();
}

/**
 * A table from columns [{header, cell(row) -> text|Node|[...], rowHeader, class}].
 * Row headers carry the name a screen reader repeats for each cell.
 */
export function table({ caption, columns, rows, rowAttributes = () => ({}) }) {
  return el("table", { class: "admin-table" },
    caption ? el("caption", { class: "visually-hidden", text: caption }) : null,
    el("thead", {}, el("tr", {}, columns.map((column) =>
      el("th", { scope: "col", text: column.header })))),
    el("tbody", {}, rows.map((row) => el("tr", rowAttributes(row), columns.map((column) =>
      column.rowHeader
        ? el("th", { scope: "row", class: column.class }, column.cell(row))
        : el("td", { class: column.class, "data-label": column.header }, column.cell(row)))))));
}

/** A list in a cell, or a dash when there is nothing (an empty cell reads as "missing"). */
export function listCell(items, empty = "—") {
  if (!items || items.length === 0) return empty;
  return el("ul", {}, items.map((item) => el("li", {}, el("code", { text: item }))));
}

/** The state line above a table: loading, empty, or a problem. */
export function setState(section, text, { error = false } = {}) {
  const state = section.querySelector('[data-slot="state"]');
  state.textContent = text;
  state.hidden = !text;
  state.classList.toggle("error", error);
}
