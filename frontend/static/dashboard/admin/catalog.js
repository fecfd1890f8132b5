// The catalog, read-only: reasons and the status workflow at a glance. It comes from the API
// (GET /catalog), the one copy of these labels and rules, so this page cannot drift from them.

import { el } from "../../shared/el.js";
import { get } from "../api.js";
import { setState, table } from "./ui.js";

const yesNo = (value) => el("span", { class: "yes-no", text: value ? "Yes" : "No" });

export class CatalogSection {
  constructor(section) {
    this.section = section;
    this.content = section.querySelector('[data-slot="content"]');
  }

  async load() {
    try {
      this.render(await get("catalog"));
      setState(this.section, "");
      this.content.hidden = false;
    } catch (error) {
      setState(this.section, `The catalog could not be loaded: ${error.message}`, { error: true });
    }
  }

  render(catalog) {
    this.section.querySelector('[data-slot="reasons"]').replaceChildren(table({
      caption: "Reasons",
      rows: catalog.reasons,
      rowAttributes: (reason) => ({ "data-key": reason.value }),
      columns: [
        { header: "Label", rowHeader: true, cell: (reason) => reason.label },
        { header: "Value (API and exports)", cell: (reason) => el("code", { text: reason.value }) },
        { header: "Description", class: "wrap", cell: (reason) => reason.description || "—" },
      ],
    }));
    const labels = Object.fromEntries(catalog.statuses.map((status) => [status.value, status.label]));
    this.section.querySelector('[data-slot="statuses"]').replaceChildren(table({
      caption: "Flag statuses and their allowed transitions",
      rows: catalog.statuses,
      rowAttributes: (status) => ({ "data-key": status.value }),
      columns: [
        { header: "Status", rowHeader: true, cell: (status) => status.label },
        { header: "Value", cell: (status) => el("code", { text: status.value }) },
        {
          header: "Can move to",
          class: "wrap",
          cell: (status) => (status.allowed_transitions.length
            ? status.allowed_transitions.map((to) => labels[to] || to).join(", ")
            : "—"),
        },
        { header: "Needs a reply to the reporter", cell: (status) => yesNo(status.reply_required) },
        { header: "Needs an owner", cell: (status) => yesNo(status.owner_required) },
        { header: "End state", cell: (status) => yesNo(status.end_state) },
      ],
    }));
  }
}
