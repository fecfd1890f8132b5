// The organization's price list: what is loaded, and a CSV upload that replaces it whole. A file
// with bad lines loads nothing; each bad line is listed with its column and why, so the admin
// fixes the file and uploads it again.

import { el } from "../../shared/el.js";
import { ApiError } from "../../shared/http.js";
import { get } from "../api.js";
import { setState, table } from "./ui.js";

const csrfMeta = document.querySelector('meta[name="csrf-token"]');

/** POST the file as text/csv (the API's request helper sends JSON only). */
async function upload(text) {
  let response;
  try {
    response = await fetch("/api/v1/prices", {
      method: "POST",
      headers: {
        Accept: "application/json",
        "Content-Type": "text/csv; charset=utf-8",
        "X-CSRF-Token": csrfMeta ? csrfMeta.content : "",
      },
      body: text,
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, { detail: "ValueLoop could not be reached. Check the connection and try again." });
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export class PricesSection {
  constructor(section) {
    this.section = section;
    this.tableBox = section.querySelector('[data-slot="table"]');
    this.summary = section.querySelector('[data-slot="summary"]');
    this.form = section.querySelector("#load-prices");
    this.problem = this.form.querySelector('[data-slot="problem"]');
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.loadFile();
    });
  }

  async load() {
    try {
      this.render(await get("prices"));
    } catch (error) {
      this.tableBox.hidden = true;
      setState(this.section, `The price list could not be loaded: ${error.message}`, { error: true });
    }
  }

  render(list) {
    if (list.count === 0) {
      this.tableBox.hidden = true;
      this.summary.textContent = "";
      setState(this.section, "No price list is loaded: flags are estimated at Medicare national reference prices.");
      return;
    }
    setState(this.section, "");
    const when = new Date(list.loaded_at).toLocaleString();
    this.summary.textContent = `${list.count} prices, loaded ${when} by ${list.loaded_by}.`;
    this.tableBox.replaceChildren(table({
      caption: "Organization price list",
      rows: list.entries,
      columns: [
        { header: "Code", rowHeader: true, cell: (entry) => el("code", { text: entry.code }) },
        { header: "Code system", class: "wrap", cell: (entry) => entry.code_system },
        { header: "Price", cell: (entry) => `${entry.price} ${entry.currency}` },
        { header: "Source", class: "wrap", cell: (entry) => entry.source },
        { header: "Effective from", cell: (entry) => entry.effective_date },
      ],
    }));
    this.tableBox.hidden = false;
  }

  async loadFile() {
    const file = this.form.elements.file.files[0];
    this.problem.hidden = true;
    if (!file) return;
    const button = this.form.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      const list = await upload(await file.text());
      this.render(list);
      this.form.reset();
      this.summary.textContent = `Loaded: ${this.summary.textContent}`;
    } catch (error) {
      this.showProblems(error);
    } finally {
      button.disabled = false;
    }
  }

  showProblems(error) {
    const problem = error instanceof ApiError ? error.problem || {} : {};
    const lines = Array.isArray(problem.problems) ? problem.problems : [];
    this.problem.replaceChildren(
      el("p", {}, el("strong", { text: "Nothing was loaded. " }), error.message),
      lines.length
        ? el("ul", { "data-slot": "bad-lines" }, lines.map((line) => el("li", {
          text: `Line ${line.line}${line.column ? `, ${line.column.replace("_", " ")}` : ""}: ${line.detail}`,
        })))
        : null,
    );
    this.problem.hidden = false;
    this.problem.focus();
  }
}
