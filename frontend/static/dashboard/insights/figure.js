// One figure of the Insights page: the chart the server drew, the same numbers as a table, and a
// CSV download of them. The chart (SVG) and the table come from two requests to the same
// endpoint, so either can fail alone; the figure shows whatever it got and says what it lacks.

import { el } from "../../shared/el.js";
import { get, query, request } from "../api.js";

const SVG_NS = "http://www.w3.org/2000/svg";
// Elements and attributes a chart never needs; dropped in case a label ever smuggled one in.
// (The CSP would block them anyway, but a blocked inline style still fills the console.)
const UNSAFE_ELEMENTS = "script, style, foreignObject, iframe, image, use, a";

/** The server's SVG text as a node of this document, or an Error saying why not. */
export function parseChart(text) {
  if (typeof text !== "string") throw new Error("The server sent no chart.");
  const doc = new DOMParser().parseFromString(text, "image/svg+xml");
  const root = doc.documentElement;
  if (root.namespaceURI !== SVG_NS || root.localName !== "svg" || doc.querySelector("parsererror")) {
    throw new Error("The server's chart could not be read.");
  }
  root.querySelectorAll(UNSAFE_ELEMENTS).forEach((node) => node.remove());
  for (const node of [root, ...root.querySelectorAll("*")]) {
    for (const { name } of [...node.attributes]) {
      if (/^on/i.test(name) || name === "style" || /href$/i.test(name)) node.removeAttribute(name);
    }
  }
  return document.importNode(root, true);
}

const problemText = (error) => (error instanceof Error ? error.message : String(error));

/** A toggle-button group ("By count" | "By estimated cost"): one pressed at a time. */
function toggleGroup(label, options, current, onPick) {
  const buttons = options.map(([value, text]) =>
    el("button", {
      type: "button",
      class: "toggle",
      "data-value": value,
      "aria-pressed": String(value === current),
      onclick: () => onPick(value),
    }, text),
  );
  const group = el("div", { class: "toggle-group", role: "group", "aria-label": label }, buttons);
  group.select = (value) => {
    for (const button of buttons) button.setAttribute("aria-pressed", String(button.dataset.value === value));
  };
  return group;
}

/**
 * A figure built from a config:
 *   id, title, note, path (under /api/v1), params(state) for the endpoint's own parameters,
 *   sorts (optional [[value, text]] switching params.sort), svg (whether format=svg exists),
 *   columns [{header, value(row), format(raw), numeric, rowHeader}], rows(data), key(row),
 *   summary(data, state) -> text, emptyText, caption(state), wide (a full row: many bars),
 *   filters(filters) (optional: the page's filters this endpoint takes; all by default).
 */
export class InsightFigure {
  constructor(config, { onSort } = {}) {
    this.config = config;
    this.onSort = onSort || (() => {});
    this.view = "chart";
    this.url = null;
    this.generation = 0;
    this.build();
  }

  build() {
    const { id, title, note } = this.config;
    const titleId = `figure-${id}-title`;
    this.stateText = el("p", { class: "figure-state", "data-slot": "state" });
    this.summaryText = el("p", { class: "figure-summary", "data-slot": "summary" });
    this.retry = el("button", {
      type: "button",
      class: "retry",
      hidden: true,
      onclick: () => this.reload(),
    }, "Try again");
    this.chartBox = el("div", {
      class: "chart-box",
      tabindex: "0",
      role: "region",
      "aria-label": `${title}: chart`,
      "data-slot": "chart",
    });
    // Only shown on narrow screens (CSS), where the chart keeps a readable size and scrolls.
    this.hint = el("p", {
      class: "narrow-hint",
      text: "The chart scrolls sideways; “Table” shows the same numbers.",
    });
    this.tableBox = el("div", {
      class: "table-wrap",
      tabindex: "0",
      role: "region",
      "aria-label": `${title}: table`,
      "data-slot": "table",
    });
    this.csv = el("a", { class: "button csv-link", "data-slot": "csv" },
      "Download CSV", el("span", { class: "visually-hidden", text: `: ${title.toLowerCase()}` }));
    const tools = el("div", { class: "figure-tools no-print" });
    if (this.config.sorts) {
      this.sortGroup = toggleGroup(`Measure for ${title.toLowerCase()}`, this.config.sorts, "count",
        (value) => this.onSort(id, value));
      tools.append(this.sortGroup);
    }
    if (this.config.svg) {
      this.viewGroup = toggleGroup(`View of ${title.toLowerCase()}`,
        [["chart", "Chart"], ["table", "Table"]], this.view, (value) => this.showView(value, true));
      tools.append(this.viewGroup);
    }
    tools.append(this.csv);
    this.element = el("figure", {
      class: this.config.wide ? "insight-figure wide" : "insight-figure",
      "data-chart": id,
      "data-state": "loading",
      "aria-labelledby": titleId,
    },
    el("figcaption", {},
      el("h3", { id: titleId, text: title }),
      note ? el("p", { class: "figure-note", text: note }) : null),
    tools, this.stateText, this.retry, this.hint, this.chartBox, this.tableBox, this.summaryText);
    if (!this.config.svg) {
      this.chartBox.remove();
      this.hint.remove();
    }
    this.applyView();
  }

  /** Chart or table on screen (and in print: the page prints what the reader chose). */
  showView(view, byUser = false) {
    this.view = view;
    this.applyView();
    if (byUser) this.element.querySelector(`[data-slot="${view}"]`).focus();
  }

  applyView() {
    const hasChart = Boolean(this.config.svg && this.chartBox.firstChild);
    const view = hasChart ? this.view : "table";
    this.chartBox.hidden = view !== "chart";
    this.hint.hidden = view !== "chart" || !hasChart;
    this.tableBox.hidden = view !== "table" || !this.tableBox.firstChild;
    if (this.viewGroup) {
      // The buttons show what is on screen; the reader's choice comes back with the chart.
      this.viewGroup.select(view);
      const [chartButton, tableButton] = this.viewGroup.querySelectorAll("button");
      chartButton.disabled = !hasChart;
      tableButton.disabled = !this.tableBox.firstChild;
    }
  }

  setState(state, message = "") {
    this.element.dataset.state = state;
    this.element.setAttribute("aria-busy", String(state === "loading"));
    this.stateText.textContent = message;
    this.stateText.hidden = !message;
    this.stateText.classList.toggle("error", state === "error" || state === "partial");
  }

  /**
   * Fetch for these filters (skipped when nothing that matters changed). Older answers that
   * arrive after a newer request are dropped, so quick filter changes never show stale numbers.
   */
  async load(filters, state) {
    this.last = { filters, state };
    const params = { ...this.config.params(state), ...(this.config.filters ? this.config.filters(filters) : filters) };
    if (this.sortGroup) this.sortGroup.select(params.sort);
    const path = `${this.config.path}${query(params)}`;
    if (path === this.url) return;
    this.url = path;
    const generation = ++this.generation;
    this.csv.href = `/api/v1/${this.config.path}${query({ ...params, format: "csv" })}`;
    this.csv.setAttribute("download", this.fileName(params));
    const hadContent = Boolean(this.chartBox.firstChild || this.tableBox.firstChild);
    this.element.classList.toggle("updating", hadContent);
    this.setState("loading", hadContent ? "Updating…" : "Loading…");

    const [json, svg] = await Promise.allSettled([
      get(path),
      this.config.svg
        ? request(`${this.config.path}${query({ ...params, format: "svg" })}`, { accept: "image/svg+xml" })
            .then(({ data }) => parseChart(data))
        : Promise.resolve(null),
    ]);
    if (generation !== this.generation) return;
    this.element.classList.remove("updating");
    this.render(json, svg, state);
  }

  render(json, svg, state) {
    this.retry.hidden = true;
    this.chartBox.replaceChildren();
    this.tableBox.replaceChildren();
    this.summaryText.textContent = "";
    if (json.status === "rejected") {
      // Without the numbers an SVG alone would be unverifiable; say what failed instead.
      this.setState("error", `These figures could not be loaded: ${problemText(json.reason)}`);
      this.retry.hidden = false;
      this.applyView();
      return;
    }
    const rows = this.config.rows(json.value);
    if (rows.length === 0) {
      this.setState("empty", this.config.emptyText || "No flags match these filters in this range.");
      this.applyView();
      return;
    }
    this.tableBox.append(this.table(rows, state));
    this.summaryText.textContent = this.config.summary ? this.config.summary(json.value, state) : "";
    if (svg.status === "fulfilled" && svg.value) {
      this.chartBox.append(svg.value);
      this.setState("ready");
    } else if (this.config.svg) {
      this.setState("partial",
        `The chart is not available: ${problemText(svg.reason)} The table shows the same numbers.`);
      this.retry.hidden = false;
    } else {
      this.setState("ready");
    }
    this.applyView();
  }

  /** "Try again" after an error: the same request once more. */
  reload() {
    this.retry.hidden = true;
    this.url = null;
    this.load(this.last.filters, this.last.state);
  }

  /** The exact API numbers: each numeric cell shows a readable form and keeps the raw value. */
  table(rows, state) {
    const { columns, key, title } = this.config;
    // A header may depend on the state ("cumulative share of cost" when sorted by cost).
    const header = (column) => (typeof column.header === "function" ? column.header(state) : column.header);
    const head = el("tr", {}, columns.map((column) =>
      el("th", { scope: "col", class: column.numeric ? "number" : null, text: header(column) })));
    const body = rows.map((row) => el("tr", { "data-key": key(row) ?? null },
      columns.map((column) => {
        const raw = column.value(row);
        // format may return text or nodes (a label with its code beside it).
        const text = column.format ? column.format(raw, row) : String(raw);
        if (column.rowHeader) return el("th", { scope: "row", "data-value": raw ?? null }, text);
        return el("td", { class: column.numeric ? "number" : null, "data-value": raw }, text);
      })));
    const caption = this.config.caption ? this.config.caption(state) : title;
    return el("table", { class: "figure-table" },
      el("caption", { class: "visually-hidden", text: caption }),
      el("thead", {}, head),
      el("tbody", {}, body));
  }

  fileName(params) {
    const span = [params.created_from || "start", params.created_to || "today"].join("-to-");
    const sort = params.sort ? `-by-${params.sort}` : "";
    return `valueloop-${this.config.id}${sort}-${span}.csv`;
  }
}
