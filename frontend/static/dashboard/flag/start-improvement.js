// "Start an improvement from this flag": an inline form with the title prefilled from the order
// ("Reduce <order>"), the kind, the flag's order code as the target (or, for an order without a
// coded system, the low-value rules that agreed with the reporter), and a checklist of the
// flag's likely siblings (GET /flags/{id}/siblings), all checked. The improvement is proposed
// with this flag and the checked siblings linked, and the page goes to it.

import { el } from "../../shared/el.js";
import { get, request } from "../api.js";
import { formatDate } from "../flag-format.js";
import { improvementHref, targetText } from "../improvements/format.js";
import { disclosure, setOpen, showError, submitting } from "../improvements/forms.js";
import { displayOf } from "./view.js";

const TITLE_MAX = 200;

/** What the improvement will aim at: the order's code, else the rules that agreed, else none. */
function aimOf(flag, catalog) {
  const code = flag.order && flag.order.code;
  if (code && code.system && code.code) {
    const target = { system: code.system, code: code.code };
    return { targets: [target], rules: [], text: `Order code ${targetText(target)} (${code.display})` };
  }
  const rules = (flag.rule_agreement || []).map((rule) => rule.rule_id);
  if (rules.length) {
    return { targets: [], rules, text: rules.map((rule) => `Rule: ${catalog.ruleTitle(rule)}`).join("; ") };
  }
  return null;
}

function siblingItem(flag, flagCatalog) {
  const id = `sibling-${flag.id}`;
  const parts = [
    displayOf(flag),
    flag.department || "no department",
    `flagged ${formatDate(flag.created_at)}`,
    flagCatalog.label("reasons", flag.reason),
  ];
  return el("div", { class: "check", "data-id": flag.id },
    el("input", { type: "checkbox", id, name: "sibling", value: flag.id, checked: true }),
    el("label", { for: id, text: parts.join(" · ") }));
}

/** Wire the form. ctx: { flagId, flag(), catalog, flagCatalog }. Returns { close() }. */
export function startImprovementForm(ctx) {
  const form = document.getElementById("start-improvement-form");
  const toggle = document.getElementById("start-improvement");
  const { title, kind } = form.elements;
  const target = form.querySelector('[data-slot="target"]');
  const list = form.querySelector('[data-slot="siblings"]');
  const status = form.querySelector('[data-slot="siblings-status"]');
  const submit = form.querySelector('button[type="submit"]');
  kind.replaceChildren(...ctx.catalog.kinds.map((k) => el("option", { value: k.value, text: k.label })));
  let aim = null;
  let loaded = false;

  async function loadSiblings() {
    status.textContent = "Looking for likely siblings…";
    try {
      const { items } = await get(`flags/${encodeURIComponent(ctx.flagId)}/siblings`);
      list.replaceChildren(...items.map((flag) => siblingItem(flag, ctx.flagCatalog)));
      status.textContent = items.length
        ? `${items.length === 1 ? "1 likely sibling" : `${items.length} likely siblings`}, all checked.`
        : "No likely siblings: the improvement starts from this flag alone.";
      loaded = true;
    } catch (error) {
      status.textContent = `The siblings could not be looked up (${error.message}); the improvement can start from this flag alone.`;
    }
  }

  function open() {
    const flag = ctx.flag();
    aim = aimOf(flag, ctx.catalog);
    if (!title.value) title.value = `Reduce ${displayOf(flag)}`.slice(0, TITLE_MAX);
    target.replaceChildren(el("div", { class: "fact" }, el("dt", { text: "Target" }),
      el("dd", { text: aim ? aim.text : "None: this order has no coded system and no rule agreed" })));
    submit.disabled = !aim;
    setOpen(form, toggle, true);
    if (!aim) showError(form, "An improvement needs an order code or a rule to measure; start this one from the Improvements page.");
    if (!loaded) loadSiblings();
  }

  disclosure(form, toggle, open);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!aim) return showError(form, "An improvement needs an order code or a rule to measure.");
    const name = title.value.trim();
    if (name.length < 3) return showError(form, "Give the improvement a title (at least 3 characters).", title);
    const siblings = [...list.querySelectorAll('input[name="sibling"]:checked')].map((input) => input.value);
    const body = { title: name, kind: kind.value, targets: aim.targets, rules: aim.rules, flag_ids: [ctx.flagId, ...siblings] };
    let created = null;
    const ok = await submitting(form, async () => {
      created = (await request("improvements", { method: "POST", body })).data;
    });
    if (ok) location.assign(improvementHref(created.id));
  });
  return { close: () => { form.hidden = true; toggle.setAttribute("aria-expanded", "false"); } };
}
