// The improvement's measured effect, once it has a go-live date: flags before and after, their
// rate ratio with its 95% interval (or why there is not enough data yet), rule hits per 1,000
// evaluated orders where the CDS service counts them, and the run chart the server draws (SVG,
// inlined as the Insights figures are). #effect[data-state] is idle | loading | ready | error.

import { el } from "../../shared/el.js";
import { plural } from "../../shared/text.js";
import { get, request } from "../api.js";
import { parseChart } from "../insights/figure.js";
import { dayText } from "./format.js";

function windowText(name, window) {
  return `${name}: ${plural(window.flags, "flag")} in ${plural(window.days, "day")} ` +
    `(${dayText(window.from)}–${dayText(window.to)})`;
}

/** "Rate ratio 0.42 (95% CI 0.25–0.71): flags fell 58%". */
export function ratioText(ratio, ci95, what) {
  const change = Math.round(Math.abs(1 - ratio) * 100);
  const direction = change === 0 ? `${what} were unchanged` : `${what} ${ratio < 1 ? "fell" : "rose"} ${change}%`;
  const interval = ci95 ? ` (95% CI ${ci95[0].toFixed(2)}–${ci95[1].toFixed(2)})` : "";
  const chance = ci95 && ci95[0] <= 1 && ci95[1] >= 1 ? "; the interval includes no change, so this may be chance" : "";
  return `Rate ratio ${ratio.toFixed(2)}${interval}: ${direction}${chance}.`;
}

function flagLines(effect) {
  const lines = [
    el("p", { "data-slot": "before", text: windowText("Before", effect.before) }),
    el("p", { "data-slot": "after", text: windowText("After", effect.after) }),
  ];
  if (effect.enough_data && effect.rate_ratio !== null) {
    lines.push(el("p", { class: "effect-result", "data-slot": "ratio", text: ratioText(effect.rate_ratio, effect.ci95, "flags") }));
  } else {
    lines.push(el("p", { class: "effect-result not-enough", "data-slot": "ratio",
      text: `Not enough data yet: at least ${effect.min_events} flags in each window and ` +
        `${effect.min_after_days} days after go-live are needed (so far ${effect.before.flags} before, ` +
        `${effect.after.flags} after, ${plural(effect.after.days, "day")} after go-live).` }));
  }
  return lines;
}

function ruleLines(hits) {
  if (!hits) return [];
  const per = (window) => (window.per_1000 === null ? "no orders evaluated"
    : `${window.per_1000.toFixed(2)} per 1,000 (${window.hits} of ${window.evaluated.toLocaleString("en-US")} evaluated orders)`);
  return [
    el("h3", { text: "Rule hits per 1,000 evaluated orders" }),
    el("p", { "data-slot": "rule-before", text: `Before: ${per(hits.before)}` }),
    el("p", { "data-slot": "rule-after", text: `After: ${per(hits.after)}` }),
    el("p", { class: "effect-result", "data-slot": "rule-ratio",
      text: hits.enough_data && hits.rate_ratio !== null
        ? ratioText(hits.rate_ratio, hits.ci95, "rule hits")
        : "Not enough rule hits yet to compare the rates." }),
  ];
}

function weeklyTable(weekly) {
  return el("div", { class: "table-wrap", role: "region", tabindex: "0", "aria-label": "Flags per week" },
    el("table", {},
      el("caption", { class: "visually-hidden", text: "Flags per week (weeks start on Monday)" }),
      el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "Week of" }), el("th", { scope: "col", class: "number", text: "Flags" }))),
      el("tbody", {}, weekly.map((point) =>
        el("tr", {}, el("th", { scope: "row", text: dayText(point.week) }), el("td", { class: "number", text: String(point.flags) }))))));
}

/** The Effect section; returns { update(improvement) }. */
export function effectSection(section, improvementId) {
  const slot = (name) => section.querySelector(`[data-slot="${name}"]`);
  const path = `improvements/${encodeURIComponent(improvementId)}/effect`;
  let generation = 0;
  let measuredFor = null; // the version of the improvement last asked about

  const setState = (state, message = "") => {
    section.dataset.state = state;
    section.setAttribute("aria-busy", String(state === "loading"));
    slot("status").textContent = message;
    slot("status").classList.toggle("error", state === "error");
  };

  async function load() {
    const mine = ++generation;
    setState("loading", "Measuring…");
    const [json, svg] = await Promise.allSettled([
      get(path),
      request(`${path}?format=svg`, { accept: "image/svg+xml" }).then(({ data }) => parseChart(data)),
    ]);
    if (mine !== generation) return; // a newer version of the improvement asked again
    if (json.status === "rejected") {
      measuredFor = null; // the next version shown asks again
      setState("error", `The effect could not be measured: ${json.reason.message}`);
      return;
    }
    const effect = json.value;
    slot("numbers").replaceChildren(...flagLines(effect), ...ruleLines(effect.rule_hits));
    slot("weekly").replaceChildren(weeklyTable(effect.weekly));
    slot("weekly-details").hidden = !effect.weekly.length;
    const chart = svg.status === "fulfilled" ? svg.value : null;
    slot("chart").replaceChildren(...(chart ? [chart] : []));
    slot("figure").hidden = !chart;
    setState("ready", chart ? "" : `The run chart is not available: ${svg.reason.message} The table has the same weeks.`);
  }

  return {
    update(improvement) {
      section.hidden = !improvement.go_live;
      if (!improvement.go_live) return;
      // Measured again when the improvement changed (a flag linked, a new go-live).
      const key = `${improvement.go_live}/${improvement.version}/${improvement.flag_count}`;
      if (key === measuredFor) return;
      measuredFor = key;
      load();
    },
  };
}
