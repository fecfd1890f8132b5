// The queue's table: one row per flag, the checked rows (for bulk actions) and the "current"
// row that the j/k shortcuts move. The current row is marked with aria-current and a visible
// border and marker, and its link takes focus, so screen readers and sighted keyboard users
// both know where they are.

import { el } from "../../shared/el.js";
import {
  ageElement,
  costText,
  orderCodeText,
  ownerText,
  priorityBadge,
  statusBadge,
} from "../flag-format.js";

const muted = (text) => el("span", { class: "muted-text", text });

function displayOf(flag) {
  return (flag.order && flag.order.code && flag.order.code.display) || "Unnamed order";
}

function renderRow(flag, catalog, href) {
  const display = displayOf(flag);
  const code = orderCodeText(flag.order);
  const owner = ownerText(flag.owner);
  const cost = costText(flag.estimated_cost);
  return el(
    "tr",
    { "data-id": flag.id, "data-status": flag.status },
    el(
      "td",
      { class: "select-col" },
      el("input", {
        type: "checkbox",
        class: "row-check",
        value: flag.id,
        "aria-label": `Select ${display}, flagged ${flag.created_at.slice(0, 10)}`,
      }),
    ),
    el("td", { class: "age-col" }, ageElement(flag, catalog)),
    el("td", {}, statusBadge(flag.status, catalog)),
    el("td", {}, priorityBadge(flag.priority, catalog)),
    el("td", { class: "reason-col", text: catalog.label("reasons", flag.reason) }),
    el(
      "td",
      { class: "order-col" },
      el("span", { class: "current-marker", "aria-hidden": "true", text: "▶ " }),
      el("a", { href, class: "row-link", text: display }),
      code ? el("span", { class: "code", text: code }) : null,
    ),
    el("td", { class: "text-col" }, flag.department || muted("Not recorded")),
    el("td", { text: catalog.label("reporter_roles", flag.reporter && flag.reporter.role) }),
    el("td", { class: "text-col" }, owner || muted("Unassigned")),
    el("td", { class: "number" }, cost || muted("Not estimated")),
  );
}

export class QueueTable {
  /** onChange() runs whenever the checked rows change (the bulk bar shows the count). */
  constructor({ tbody, selectAll, onChange }) {
    this.tbody = tbody;
    this.selectAll = selectAll;
    this.onChange = onChange;
    this.flags = [];
    this.current = -1;
    tbody.addEventListener("change", (event) => {
      if (event.target.classList.contains("row-check")) this.changed();
    });
    // A click on a row (not on its controls) makes it current, so j/k continue from there.
    tbody.addEventListener("click", (event) => {
      const row = event.target.closest("tr");
      if (row && !event.target.closest("a, input, button")) this.setCurrent(this.rows().indexOf(row), { focus: false });
    });
    selectAll.addEventListener("change", () => {
      for (const box of this.boxes()) box.checked = selectAll.checked;
      this.changed();
    });
  }

  rows() {
    return [...this.tbody.rows];
  }

  boxes() {
    return [...this.tbody.querySelectorAll(".row-check")];
  }

  render(flags, catalog, hrefFor) {
    this.flags = flags;
    this.current = -1;
    this.tbody.replaceChildren(...flags.map((flag) => renderRow(flag, catalog, hrefFor(flag))));
    this.changed();
  }

  /** Keep the header checkbox honest: checked, unchecked or mixed. */
  changed() {
    const boxes = this.boxes();
    const checked = boxes.filter((box) => box.checked).length;
    this.selectAll.checked = boxes.length > 0 && checked === boxes.length;
    this.selectAll.indeterminate = checked > 0 && checked < boxes.length;
    this.selectAll.disabled = boxes.length === 0;
    for (const box of boxes) box.closest("tr").classList.toggle("checked", box.checked);
    this.onChange(checked);
  }

  checkedFlags() {
    const ids = new Set(this.boxes().filter((box) => box.checked).map((box) => box.value));
    return this.flags.filter((flag) => ids.has(flag.id));
  }

  currentFlag() {
    return this.current >= 0 ? this.flags[this.current] : null;
  }

  /** The rows an action applies to: the checked ones, or else the current one. */
  targets() {
    const checked = this.checkedFlags();
    if (checked.length) return checked;
    const current = this.currentFlag();
    return current ? [current] : [];
  }

  setCurrent(index, { focus = true } = {}) {
    const rows = this.rows();
    if (!rows.length || index < 0) return;
    this.current = Math.min(index, rows.length - 1);
    rows.forEach((row, i) => {
      row.classList.toggle("current", i === this.current);
      if (i === this.current) row.setAttribute("aria-current", "true");
      else row.removeAttribute("aria-current");
    });
    const row = rows[this.current];
    row.scrollIntoView({ block: "nearest" });
    if (focus) row.querySelector(".row-link").focus({ preventScroll: true });
  }

  /** j / k: the first press starts at the top (or bottom) of the page. */
  move(delta) {
    if (!this.flags.length) return;
    if (this.current < 0) this.setCurrent(delta > 0 ? 0 : this.flags.length - 1);
    else this.setCurrent(Math.max(0, Math.min(this.flags.length - 1, this.current + delta)));
  }

  toggleCurrent() {
    const row = this.rows()[this.current];
    if (!row) return false;
    const box = row.querySelector(".row-check");
    box.checked = !box.checked;
    this.changed();
    return box.checked;
  }

  currentHref() {
    const row = this.rows()[this.current];
    return row ? row.querySelector(".row-link").href : null;
  }
}
