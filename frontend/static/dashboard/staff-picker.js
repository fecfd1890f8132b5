// A person from the staff directory (GET /api/v1/staff), picked with a type-ahead. Used by the
// owner fields (flag-owner.js: flag page, queue's bulk Assign) and the queue's owner filter, so
// the keyboard behaves the same everywhere.
//
// The picker follows the WAI-ARIA Authoring Practices "combobox with listbox popup" pattern:
// typing filters, ArrowDown/ArrowUp move through the options (aria-activedescendant), Enter
// picks, Escape closes; the input keeps focus throughout, so it works with the keyboard alone.

import { el } from "../shared/el.js";
import { get, query } from "./api.js";

const SHOWN = 8;
const DIRECTORY_PAGE = 200; // the API's largest page
const DIRECTORY_PAGES = 25; // a lookup gives up after this many people (5,000)

/** "Name <email>", and "(inactive)" for someone deactivated. */
export function personText(person) {
  const text = person.email ? `${person.name} <${person.email}>` : person.name;
  return person.active === false ? `${text} (inactive)` : text;
}

/**
 * Find one person by id (a link that names them, e.g. the queue's ?owner=). The directory has
 * no lookup by id for the quality team, so this walks it in name order; it is small, and the
 * answer is kept. Resolves null when nobody has that id.
 */
const known = new Map();
export async function findPerson(id) {
  if (known.has(id)) return known.get(id);
  let cursor;
  for (let page = 0; page < DIRECTORY_PAGES; page += 1) {
    const found = await get(`staff${query({ limit: DIRECTORY_PAGE, cursor })}`);
    for (const person of found.items) known.set(person.id, person);
    if (known.has(id)) return known.get(id);
    if (!found.next_cursor) break;
    cursor = found.next_cursor;
  }
  return null;
}

/**
 * Build a picker: { wrap, input, value } where value is the chosen person (or null).
 * `activeOnly` (the default) offers only active people, as for a new owner; a filter over past
 * work offers everyone. `onChange(person|null)` hears what the person does (a pick, or typing
 * that drops the pick), never what `value = …` sets.
 */
export function staffPicker(id, labelText, { activeOnly = true, onChange = () => {} } = {}) {
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
  const pickByHand = (person) => {
    pick(person);
    onChange(person);
  };
  const show = (people) => {
    options = people;
    list.replaceChildren(...people.map((person, at) => {
      const item = el("li", { id: `${listId}-${at}`, role: "option", "aria-selected": "false", text: personText(person) });
      // mousedown, not click: the input must not lose focus (and close the list) first.
      item.addEventListener("mousedown", (event) => { event.preventDefault(); pickByHand(person); });
      return item;
    }));
    const nobody = activeOnly ? "Nobody active matches." : "Nobody matches.";
    if (!people.length) list.append(el("li", { class: "staff-none", text: nobody }));
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    highlight(people.length ? 0 : -1);
  };
  const search = async () => {
    const text = input.value.trim();
    chosen = null;
    if (!text) return close();
    const mine = ++asked;
    const page = await get(`staff${query({ q: text, active: activeOnly ? "true" : undefined, limit: SHOWN })}`);
    for (const person of page.items) known.set(person.id, person);
    if (mine === asked) show(page.items); // a slower, older answer never replaces a newer one
  };
  input.addEventListener("input", () => {
    onChange(null); // typing drops the pick, even one still being shown
    search().catch(close);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (list.hidden) { search().catch(close); return; }
      if (!options.length) return;
      const step = event.key === "ArrowDown" ? 1 : -1;
      highlight((active + step + options.length) % options.length);
    } else if (event.key === "Enter" && !list.hidden) {
      event.preventDefault(); // picking a person must not submit the form
      if (active >= 0) pickByHand(options[active]);
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
