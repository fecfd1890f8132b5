// The board's "New improvement" form: a title, a kind and what it aims at (order codes typed
// as system|code, and/or a low-value rule from the catalog). On success the page goes to the
// new improvement, where its owners are named and flags can be linked.

import { el } from "../../shared/el.js";
import { request } from "../api.js";
import { improvementHref } from "./format.js";
import { disclosure, requireText, setOpen, showError, submitting } from "./forms.js";

/** "system|code, system|code" as targets, or { error } naming the first part that is not. */
export function parseTargets(text) {
  const parts = text.split(",").map((part) => part.trim()).filter(Boolean);
  const targets = [];
  for (const part of parts) {
    const at = part.lastIndexOf("|");
    const system = part.slice(0, at).trim();
    const code = part.slice(at + 1).trim();
    if (at < 0 || !system || !code) {
      return { error: `“${part}” is not system|code (for example http://www.ama-assn.org/go/cpt|72148).` };
    }
    targets.push({ system, code });
  }
  return { targets };
}

let built = false;

/** Wire the form (once; absent for roles that cannot propose work). */
export function newImprovementForm(catalog) {
  const form = document.getElementById("new-improvement");
  const toggle = document.getElementById("new-improvement-toggle");
  if (!form || built) return;
  built = true;
  const { title, kind, targets, rule } = form.elements;
  kind.replaceChildren(...catalog.kinds.map((k) => el("option", { value: k.value, text: k.label })));
  rule.append(...catalog.rules.map((r) => el("option", { value: r.id, text: r.title })));

  disclosure(form, toggle, () => setOpen(form, toggle, true));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = requireText(form, title, "Give the improvement a title.");
    if (!name) return;
    if (name.length < 3) {
      showError(form, "A title is at least 3 characters.", title);
      return;
    }
    const parsed = parseTargets(targets.value);
    if (parsed.error) {
      showError(form, parsed.error, targets);
      return;
    }
    if (!parsed.targets.length && !rule.value) {
      showError(form, "Name at least one order code or rule, so its effect can be measured.", targets);
      return;
    }
    const body = { title: name, kind: kind.value, targets: parsed.targets, rules: rule.value ? [rule.value] : [] };
    let created = null;
    const ok = await submitting(form, async () => {
      created = (await request("improvements", { method: "POST", body })).data;
    });
    if (ok) location.assign(improvementHref(created.id));
  });
}
