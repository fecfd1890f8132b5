// The headline tiles: how many flags, what they cost, and how well the loop closes. Three
// requests, each allowed to fail alone: a tile whose source failed says so instead of showing 0.

import { get, query, staff } from "../api.js";
import {
  formatCostRounded, formatCount, formatHours, formatShareRounded, plural,
} from "./format.js";

export class KpiTiles {
  constructor(root) {
    this.root = root;
    this.key = null;
  }

  tile(name) {
    const tile = this.root.querySelector(`[data-kpi="${name}"]`);
    return {
      value: tile.querySelector('[data-slot="value"]'),
      note: tile.querySelector('[data-slot="note"]'),
    };
  }

  /** Show a figure; `raw` is the API's own number, kept for checks and copy-paste. */
  set(name, text, note, raw) {
    const { value, note: noteEl } = this.tile(name);
    value.textContent = text;
    if (raw === null || raw === undefined) value.removeAttribute("data-value");
    else value.dataset.value = String(raw);
    noteEl.textContent = note;
    noteEl.classList.remove("error");
  }

  fail(names, error) {
    for (const name of names) {
      this.set(name, "—", `Could not be loaded: ${error.message}`, null);
      this.tile(name).note.classList.add("error");
    }
  }

  /** Returns how many sources failed (0..3), for the page's status message. */
  async load(filters) {
    const params = query(filters);
    if (params === this.key) return 0;
    this.key = params;
    this.root.setAttribute("aria-busy", "true");
    const [loop, outcomes, costs] = await Promise.allSettled([
      get(`stats/loop${params}`),
      get(`stats/outcomes${params}`),
      // The cost total is the same in every breakdown; reasons are the smallest one to fetch.
      get(`stats/breakdown${query({ ...filters, by: "reason" })}`),
    ]);
    if (params !== this.key) return 0;
    this.root.setAttribute("aria-busy", "false");
    if (loop.status === "fulfilled") this.showLoop(loop.value);
    else this.fail(["flags", "closed-loop", "median-reply"], loop.reason);
    if (outcomes.status === "fulfilled") this.showOutcomes(outcomes.value);
    else this.fail(["closed-with-action"], outcomes.reason);
    if (costs.status === "fulfilled") {
      const total = costs.value.total_estimated_cost;
      this.set("cost", formatCostRounded(total), "At the organization's prices where loaded, else Medicare national reference prices; not charges.", total);
    } else this.fail(["cost"], costs.reason);
    return [loop, outcomes, costs].filter((result) => result.status === "rejected").length;
  }

  showLoop(loop) {
    this.set("flags", formatCount(loop.flags),
      loop.flags ? `${plural(loop.replied, "has", "have")} had a reply.` : "No flags match these filters.",
      loop.flags);
    if (loop.closed_loop_rate === null) {
      this.set("closed-loop", "—", "No flag from a reporter the team can answer in this range.", null);
    } else {
      this.set("closed-loop", formatShareRounded(loop.closed_loop_rate),
        `${formatCount(loop.identifiable_replied)} of ${plural(loop.identifiable_flags, "flag", "flags")} from identifiable reporters answered.`,
        loop.closed_loop_rate);
    }
    const median = loop.median_hours_to_first_reply;
    const target = staff.replySlaHours;
    if (median === null) {
      this.set("median-reply", "—", "No replies in this range yet.", null);
    } else {
      // Said in words, not only by colour: over or within the reply target.
      const verdict = median > target ? "over" : "within";
      this.set("median-reply", formatHours(median),
        `${verdict === "over" ? "Over" : "Within"} the ${formatHours(target)} reply target.`, median);
      this.tile("median-reply").value.dataset.verdict = verdict;
    }
  }

  showOutcomes(outcomes) {
    if (outcomes.closed_with_action_share === null) {
      this.set("closed-with-action", "—", "No review has ended in this range.", null);
      return;
    }
    this.set("closed-with-action", formatShareRounded(outcomes.closed_with_action_share),
      `${formatCount(outcomes.closed_with_action)} of ${plural(outcomes.ended, "ended review", "ended reviews")}.`,
      outcomes.closed_with_action_share);
  }
}
