// The flag page's Improvement section: the improvement this flag is part of (a link, with its
// status), or, for a flag not yet part of one, two ways in: start an improvement from this flag
// (start-improvement.js: its likely siblings can join in the same step) or link it to an open
// improvement. #improvement-panel[data-state] is loading | linked | unlinked | error.

import { el } from "../../shared/el.js";
import { get, request, staff } from "../api.js";
import { toast } from "../common.js";
import { FINISHED, improvementHref, loadImprovementCatalog, statusBadge } from "../improvements/format.js";
import { disclosure, setOpen, showError, submitting } from "../improvements/forms.js";
import { startImprovementForm } from "./start-improvement.js";

function linkedSummary(improvement, catalog) {
  return el("p", { class: "linked-improvement" },
    "Part of ",
    el("a", { href: improvementHref(improvement.id), text: improvement.title }),
    " ",
    el("span", { class: "visually-hidden", text: "Status: " }),
    statusBadge(improvement.status, catalog));
}

/** The "Link to an improvement" form: a select of the open improvements. */
function linkForm(ctx, { onLinked }) {
  const form = document.getElementById("link-improvement-form");
  const toggle = document.getElementById("link-improvement");
  const select = form.elements.improvement;
  const submit = form.querySelector('button[type="submit"]');

  async function open() {
    setOpen(form, toggle, true);
    select.replaceChildren(el("option", { value: "", text: "Loading…" }));
    submit.disabled = true;
    try {
      const { items } = await get("improvements");
      const offered = items.filter((item) => !FINISHED.has(item.status));
      select.replaceChildren(...offered.map((item) =>
        el("option", { value: item.id, text: `${item.title} (${ctx.catalog.statusLabel(item.status)})` })));
      if (!offered.length) {
        select.append(el("option", { value: "", text: "No open improvement" }));
        showError(form, "There is no open improvement to link to; start one from this flag instead.");
      }
      submit.disabled = !offered.length;
    } catch (error) {
      select.replaceChildren(el("option", { value: "", text: "Not loaded" }));
      showError(form, `The improvements could not be loaded: ${error.message}`);
    }
  }

  disclosure(form, toggle, open);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!select.value) return showError(form, "Choose the improvement first.", select);
    const id = select.value;
    const ok = await submitting(form, () =>
      request(`improvements/${encodeURIComponent(id)}/flags`, { method: "POST", body: { flag_ids: [ctx.flagId] } }));
    if (!ok) return;
    form.hidden = true;
    toggle.setAttribute("aria-expanded", "false");
    toast("Linked to the improvement.");
    await onLinked();
  });
  return { close: () => { form.hidden = true; toggle.setAttribute("aria-expanded", "false"); } };
}

/**
 * Wire the section. ctx: { flagId, flag(), refreshFlag() }. Returns { update(flag) }, called
 * with each version of the flag the page shows.
 */
export function improvementSection(ctx) {
  const panel = document.getElementById("improvement-panel");
  const summary = panel.querySelector('[data-slot="summary"]');
  const choices = panel.querySelector('[data-slot="choices"]');
  const canWork = Boolean(choices) && staff.can("work_flags");
  let catalog = null;
  let parts = null;
  let asked = false;

  const setState = (state, ...nodes) => {
    panel.dataset.state = state;
    summary.replaceChildren(...nodes);
    if (choices) choices.hidden = state !== "unlinked";
  };

  async function look() {
    const flag = ctx.flag();
    try {
      catalog = catalog || (await loadImprovementCatalog());
      const { items } = await get(`improvements?flag=${encodeURIComponent(ctx.flagId)}`);
      if (items.length) {
        if (parts) parts.forEach((part) => part.close());
        setState("linked", linkedSummary(items[0], catalog));
        return;
      }
      if (flag.status === "not_low_value") {
        setState("not-linkable", el("p", { class: "muted-text", text: "Judged not low-value, so it is not evidence for an improvement." }));
        return;
      }
      if (canWork && !parts) {
        const linkCtx = { ...ctx, catalog };
        parts = [startImprovementForm(linkCtx), linkForm(linkCtx, { onLinked: refresh })];
        // One form at a time: opening either closes the other.
        const [start, link] = parts;
        document.getElementById("start-improvement").addEventListener("click", () => link.close());
        document.getElementById("link-improvement").addEventListener("click", () => start.close());
      }
      setState("unlinked", el("p", { class: "muted-text", text: "Not part of any improvement yet." }));
    } catch (error) {
      setState("error", el("p", { class: "error", role: "alert", text: `Its improvement could not be looked up: ${error.message}` }));
    }
  }

  async function refresh() {
    await ctx.refreshFlag(); // linking to a live improvement replies and moves the flag on
    await look();
    summary.querySelector("a")?.focus();
  }

  return {
    update(flag) {
      // Looked up once; a flag judged not low-value later shows it on the next look.
      if (!asked || (panel.dataset.state === "unlinked" && flag.status === "not_low_value")) {
        asked = true;
        look();
      }
    },
  };
}
