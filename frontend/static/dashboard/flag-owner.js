// The "who owns this" fields: one lead, or a clinical + operational dyad, each picked from the
// staff directory (GET /api/v1/staff) with a type-ahead. The same fields appear in the queue's
// bulk Assign dialog, the flag page's Assign form and its "Accept" move, so they are built (and
// validated) here once, in the shape PUT /flags/{id}/owner takes: staff ids.
//
// Each picker follows the WAI-ARIA Authoring Practices "combobox with listbox popup" pattern:
// typing filters, ArrowDown/ArrowUp move through the options (aria-activedescendant), Enter
// picks, Escape closes; the input keeps focus throughout, so it works with the keyboard alone.

import { el } from "../shared/el.js";
import { get, query } from "./api.js";

const SHOWN = 8;
let counter = 0;

function personText(person) {
  return person.email ? `${person.name} <${person.email}>` : person.name;
}

function staffPicker(id, labelText) {
  const listId = `${id}-options`;
  const input = el("input", {
    id, type: "text", role: "combobox", autocomplete: "off", spellcheck: "false",
    "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": listId,
  });
  const list = el("ul", { id: listId, role: "listbox", class: "staff-options", "aria-label": "People" });
  list.hidden = true;
  const wrap = el("div", { class: "field staff-picker" }, el("label", { for: id, text: labelText }), input, list);
  let options = [];
  let active = -1;
  let chosen = null;
  let asked = 0;

  const close = () => {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  };
  const highlight = (index) => {
    active = index;
    [...list.children].forEach((item, at) => item.setAttribute("aria-selected", String(at === index)));
    if (index >= 0) input.setAttribute("aria-activedescendant", `${listId}-${index}`);
    else input.removeAttribute("aria-activedescendant");
  };
  const pick = (person) => {
    chosen = person;
    input.value = person ? personText(person) : "";
    close();
  };
  const show = (people) => {
    options = people;
    list.replaceChildren(...people.map((person, at) => {
      const item = el("li", { id: `${listId}-${at}`, role: "option", "aria-selected": "false", text: personText(person) });
      // mousedown, not click: the input must not lose focus (and close the list) first.
      item.addEventListener("mousedown", (event) => { event.preventDefault(); pick(person); });
      return item;
    }));
    if (!people.length) list.append(el("li", { class: "staff-none", text: "Nobody active matches." }));
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    highlight(people.length ? 0 : -1);
  };
  const search = async () => {
    const text = input.value.trim();
    chosen = null;
    if (!text) return close();
    const mine = ++asked;
    const page = await get(`staff${query({ q: text, active: "true", limit: SHOWN })}`);
    if (mine === asked) show(page.items); // a slower, older answer never replaces a newer one
  };
  input.addEventListener("input", () => { search().catch(close); });
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (list.hidden) { search().catch(close); return; }
      if (!options.length) return;
      const step = event.key === "ArrowDown" ? 1 : -1;
      highlight((active + step + options.length) % options.length);
    } else if (event.key === "Enter" && !list.hidden) {
      event.preventDefault(); // picking a person must not submit the form
      if (active >= 0) pick(options[active]);
    } else if (event.key === "Escape" && !list.hidden) {
      event.preventDefault();
      close();
    }
  });
  input.addEventListener("blur", close);

  return {
    wrap, input,
    get value() { return chosen; },
    set value(person) { pick(person); },
  };
}

/**
 * Build the fields. Returns { element, read(), set(owner), focus() }; read() gives
 * { owner } (staff ids, plus `names` for messages) or { error, input }.
 */
export function ownerFields({ legend = "Owner" } = {}) {
  const id = `owner-${++counter}`;
  const kindName = `${id}-kind`;
  const radio = (value, text) => {
    const input = el("input", { type: "radio", name: kindName, id: `${kindName}-${value}`, value });
    return { input, wrap: el("div", { class: "check" }, input, el("label", { for: input.id, text })) };
  };
  const leadChoice = radio("lead", "One lead");
  const dyadChoice = radio("dyad", "A dyad (clinical + operational lead)");
  leadChoice.input.checked = true;
  const lead = staffPicker(`${id}-lead`, "Lead's name");
  const clinical = staffPicker(`${id}-clinical`, "Clinical lead's name");
  const operational = staffPicker(`${id}-operational`, "Operational lead's name");
  const dyadBox = el("div", { class: "dyad-fields" }, clinical.wrap, operational.wrap);

  // Only the chosen kind's inputs are shown, so nobody fills in a name that will be ignored.
  const sync = () => {
    const dyad = dyadChoice.input.checked;
    lead.wrap.hidden = dyad;
    dyadBox.hidden = !dyad;
  };
  leadChoice.input.addEventListener("change", sync);
  dyadChoice.input.addEventListener("change", sync);
  sync();

  const element = el(
    "fieldset",
    { class: "owner-fields" },
    el("legend", { text: legend }),
    el("div", { class: "kind-choice" }, leadChoice.wrap, dyadChoice.wrap),
    lead.wrap,
    dyadBox,
  );
  const missing = (picker, who) => ({
    error: `Pick the ${who} from the list (type a name or email, then choose with the arrow keys and Enter).`,
    input: picker.input,
  });

  return {
    element,
    read() {
      if (dyadChoice.input.checked) {
        if (!clinical.value) return missing(clinical, "clinical lead");
        if (!operational.value) return missing(operational, "operational lead");
        if (clinical.value.id === operational.value.id) {
          return { error: "A dyad is two different people.", input: operational.input };
        }
        return {
          owner: { clinical_lead: clinical.value.id, operational_lead: operational.value.id },
          names: { kind: "dyad", clinical_lead: clinical.value, operational_lead: operational.value },
        };
      }
      if (!lead.value) return missing(lead, "lead");
      return { owner: { lead: lead.value.id }, names: { kind: "lead", lead: lead.value } };
    },
    /** Start from the current owner (people as the API shows them). */
    set(owner) {
      const dyad = owner && owner.kind === "dyad";
      dyadChoice.input.checked = Boolean(dyad);
      leadChoice.input.checked = !dyad;
      lead.value = owner && !dyad ? owner.lead : null;
      clinical.value = dyad ? owner.clinical_lead : null;
      operational.value = dyad ? owner.operational_lead : null;
      sync();
    },
    clear() {
      this.set(null);
    },
    focus() {
      (dyadChoice.input.checked ? clinical.input : lead.input).focus();
    },
  };
}

/** The owner's name(s) for a sentence, from read().names or an API owner. */
export function ownerSentence(owner) {
  if (owner.lead) return owner.lead.name;
  return `${owner.clinical_lead.name} (clinical) and ${owner.operational_lead.name} (operational)`;
}
