// "Mark duplicate of…": choose the original flag. The likeliest originals (same order, or the
// same kind of order for the same patient) are offered first; a search by text, or a pasted
// flag id, finds any other. The choice is kept while the person searches further.

import { el } from "../../shared/el.js";
import { get, query } from "../api.js";
import { formatDate } from "../flag-format.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function describe(flag, catalog) {
  const display = (flag.order && flag.order.code && flag.order.code.display) || "Unnamed order";
  return `${display} · ${catalog.label("statuses", flag.status)} · flagged ${formatDate(flag.created_at)} · ${flag.id.slice(0, 8)}`;
}

/**
 * Build the picker for flag `flagId`. Returns { element, load(), value(), reset() }.
 * load() fetches the candidates (once); value() is the chosen original's id or "".
 */
export function duplicatePicker({ flagId, catalog }) {
  const name = "duplicate-of";
  let chosen = null;
  let loaded = false;

  const candidates = el("div", { class: "choice-list", "data-slot": "candidates" });
  const results = el("div", { class: "choice-list", "data-slot": "results" });
  const chosenText = el("p", { class: "chosen", "aria-live": "polite" });
  const searchInput = el("input", {
    id: "duplicate-search",
    type: "search",
    maxlength: 200,
    autocomplete: "off",
    "aria-describedby": "duplicate-search-help",
  });
  const searchButton = el("button", { type: "button", text: "Search" });
  const resultsStatus = el("p", { class: "help", role: "status" });

  function choose(flag) {
    chosen = flag;
    chosenText.textContent = flag ? `Chosen original: ${describe(flag, catalog)}` : "";
  }

  /** Radio buttons for flags; the flag itself is never offered as its own original. */
  function fill(container, flags, emptyText) {
    const offered = flags.filter((flag) => flag.id !== flagId);
    container.replaceChildren(
      ...offered.map((flag) => {
        const id = `dup-${container.dataset.slot}-${flag.id}`;
        const input = el("input", { type: "radio", name, id, value: flag.id });
        input.checked = Boolean(chosen && chosen.id === flag.id);
        input.addEventListener("change", () => choose(flag));
        return el("div", { class: "check" }, input, el("label", { for: id, text: describe(flag, catalog) }));
      }),
    );
    if (!offered.length) container.append(el("p", { class: "muted-text", text: emptyText }));
  }

  async function load() {
    if (loaded) return;
    candidates.replaceChildren(el("p", { class: "muted-text", text: "Looking for likely originals…" }));
    try {
      const data = await get(`flags/${encodeURIComponent(flagId)}/duplicate-candidates`);
      loaded = true;
      fill(candidates, data.items, "No likely originals found: search below.");
    } catch (error) {
      candidates.replaceChildren(el("p", { class: "error", text: `Likely originals could not be loaded: ${error.message}` }));
    }
  }

  /** A pasted flag id opens that flag; other text searches notes and order names. */
  async function search() {
    const text = searchInput.value.trim();
    if (text.length < 2) {
      resultsStatus.textContent = "Type at least 2 characters, or paste a flag id.";
      return;
    }
    resultsStatus.textContent = "Searching…";
    try {
      let flags;
      if (UUID.test(text)) {
        if (text.toLowerCase() === flagId.toLowerCase()) {
          resultsStatus.textContent = "That is this flag's own id: a flag cannot be its own original.";
          results.replaceChildren();
          return;
        }
        flags = [await get(`flags/${encodeURIComponent(text.toLowerCase())}`)];
      } else {
        flags = (await get(`flags${query({ q: text, limit: 10 })}`)).items;
      }
      fill(results, flags, "No flags found.");
      const count = flags.filter((flag) => flag.id !== flagId).length;
      resultsStatus.textContent = `${count} ${count === 1 ? "flag" : "flags"} found.`;
    } catch (error) {
      results.replaceChildren();
      resultsStatus.textContent = error.status === 404
        ? "No flag has that id."
        : `The search failed: ${error.message}`;
    }
  }

  searchButton.addEventListener("click", search);
  // Enter in the search box searches; it must not submit the whole transition form.
  searchInput.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      search();
    }
  });

  const element = el(
    "fieldset",
    { class: "duplicate-picker" },
    el("legend", { text: "Mark duplicate of…" }),
    el("p", { class: "help", text: "Choose the original flag. Likely originals come first." }),
    candidates,
    el("label", { for: "duplicate-search", text: "Find another flag" }),
    el("p", { id: "duplicate-search-help", class: "help", text: "Words from its note or order name, or paste its flag id." }),
    el("div", { class: "search-row" }, searchInput, searchButton),
    resultsStatus,
    results,
    chosenText,
  );

  return {
    element,
    load,
    value: () => (chosen ? chosen.id : ""),
    focus: () => (element.querySelector("input[type=radio]") || searchInput).focus(),
    reset() {
      choose(null);
      for (const input of element.querySelectorAll("input[type=radio]")) input.checked = false;
    },
  };
}
