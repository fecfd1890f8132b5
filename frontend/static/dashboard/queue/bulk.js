// Bulk actions on the queue's checked rows. The API applies a bulk change to all flags or to
// none, and each item names the version the person saw: a 412 lists the flags someone else
// changed meanwhile, a 422 the flags that cannot take the change. Both are turned into a list
// of named flags here, because "3 conflicts" alone does not tell anyone what to look at.

import { plural } from "../../shared/text.js";
import { request } from "../api.js";
import { flagName } from "../flag-format.js";
import { ownerSentence } from "../flag-owner.js";

const itemsOf = (flags) => flags.map((flag) => ({ id: flag.id, version: flag.version }));

/**
 * Mark flags triaged. Only New (submitted) flags can be triaged, so the others are left out
 * before asking, and the result says which were skipped.
 * Returns { ok, changed, reload, summary, details: [string] }.
 */
export async function triage(flags, catalog) {
  const eligible = flags.filter((flag) => flag.status === "submitted");
  const skipped = flags.filter((flag) => flag.status !== "submitted");
  const skippedLines = skipped.map(
    (flag) => `Skipped ${flagName(flag)}: it is ${catalog.label("statuses", flag.status)}, not New.`,
  );
  if (!eligible.length) {
    return {
      ok: false,
      changed: false,
      reload: false,
      summary: `None of the ${plural(flags.length, "chosen flag")} is New, so nothing was marked triaged.`,
      details: skippedLines,
    };
  }
  try {
    const { data } = await request("flags/bulk/transitions", {
      method: "POST",
      body: { items: itemsOf(eligible), to: "triaged" },
    });
    return {
      ok: true,
      changed: true,
      reload: true,
      summary: `Marked ${plural(data.items.length, "flag")} triaged.` +
        (skipped.length ? ` Skipped ${skipped.length} that ${skipped.length === 1 ? "was" : "were"} not New.` : ""),
      details: skippedLines,
    };
  } catch (error) {
    return explainFailure(error, eligible, "marked triaged");
  }
}

/** Give all the chosen flags the same lead or dyad. */
export async function assign(flags, owner) {
  try {
    const { data } = await request("flags/bulk/owner", {
      method: "POST",
      body: { items: itemsOf(flags), owner },
    });
    return {
      ok: true,
      changed: true,
      reload: true,
      summary: `Assigned ${plural(data.items.length, "flag")} to ${ownerSentence(data.items[0].owner)}.`,
      details: [],
    };
  } catch (error) {
    return explainFailure(error, flags, "assigned");
  }
}

function explainFailure(error, flags, verb) {
  const byId = new Map(flags.map((flag) => [flag.id, flag]));
  const name = (id) => (byId.has(id) ? flagName(byId.get(id)) : id);
  const problem = error.problem || {};
  if (error.status === 412 && Array.isArray(problem.conflicts)) {
    return {
      ok: false,
      changed: false,
      // The list is out of date; show what is true now before anyone tries again.
      reload: true,
      summary: `Nothing was ${verb}: ${plural(problem.conflicts.length, "flag")} changed since the list ` +
        "was loaded. The list has been reloaded; check these flags and try again.",
      details: problem.conflicts.map((c) => `${name(c.id)} changed (version ${c.expected_version} → ${c.current_version}).`),
    };
  }
  if (error.status === 422 && Array.isArray(problem.failures)) {
    return {
      ok: false,
      changed: false,
      reload: false,
      summary: `Nothing was ${verb}: ${plural(problem.failures.length, "flag")} cannot take this change.`,
      details: problem.failures.map((f) => `${name(f.id)}: ${f.detail}`),
    };
  }
  return {
    ok: false,
    changed: false,
    reload: error.status === 404,
    summary: `Nothing was ${verb}: ${error.message}`,
    details: [],
  };
}
