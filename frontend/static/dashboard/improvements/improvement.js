// One improvement: what it aims at, its owners and ticket, the moves its status allows, the
// evidence of its linked flags, its timeline and, once live, its measured effect.
//
// Every write answers with the whole improvement, which is then shown everywhere on the page,
// so what is on screen is always what the server holds. The forms are built once: whatever a
// person typed survives a refused write. #improvement[data-state] is loading | ready | error.

import { request } from "../api.js";
import "../common.js";
import { loadCatalog } from "../flag-format.js";
import { setupDetails } from "./details.js";
import { effectSection } from "./effect.js";
import { loadImprovementCatalog } from "./format.js";
import { renderTimeline } from "./timeline.js";
import { renderEvidence, renderFlags, renderHeader } from "./view.js";
import { setupWorkflow } from "./workflow.js";

const root = document.getElementById("improvement");
const improvementId = root.dataset.improvementId;
const content = document.getElementById("improvement-content");
const loading = document.getElementById("improvement-loading");
const errorBox = document.getElementById("improvement-error");
const path = `improvements/${encodeURIComponent(improvementId)}`;

let improvement = null;
let parts = null;

function setState(state) {
  root.dataset.state = state;
  loading.hidden = state !== "loading";
  errorBox.hidden = state !== "error";
  content.hidden = state !== "ready";
}

/** Show a version of the improvement everywhere on the page (after a load or a write). */
function apply(detail) {
  improvement = detail;
  const { catalog, flagCatalog } = parts;
  document.title = `${detail.title} · Improvement · ValueLoop`;
  renderHeader(document.getElementById("improvement-header"), detail, catalog);
  renderEvidence(document.getElementById("evidence"), detail.evidence, flagCatalog);
  renderFlags(document.getElementById("linked-flags"), detail.flags, flagCatalog);
  renderTimeline(document.getElementById("improvement-timeline"), detail, catalog);
  for (const part of parts.updaters) part.update(detail);
  setState("ready");
}

/**
 * Send one change, based on the version on screen (If-Match: someone else's change since is
 * refused with 412 rather than overwritten); the answer (the whole improvement) is shown at
 * once. A refusal is thrown to the form that sent it, which shows the server's words.
 */
async function write(suffix, { method = "POST", body }) {
  const ifMatch = improvement ? `"v${improvement.version}"` : undefined;
  const { data } = await request(`${path}${suffix}`, { method, body, ifMatch });
  apply(data);
  return data;
}

async function start() {
  setState("loading");
  try {
    if (!parts) {
      const [catalog, flagCatalog] = await Promise.all([loadImprovementCatalog(), loadCatalog()]);
      const ctx = { improvementId, catalog, improvement: () => improvement, write };
      parts = {
        catalog,
        flagCatalog,
        updaters: [
          setupWorkflow(ctx),
          ...setupDetails(ctx),
          effectSection(document.getElementById("effect"), improvementId),
        ],
      };
    }
    apply((await request(path)).data);
  } catch (error) {
    errorBox.querySelector('[data-slot="text"]').textContent = error.status === 404
      ? "There is no improvement with this id. It may have been mistyped."
      : `The improvement could not be loaded: ${error.message}`;
    setState("error");
  }
}

errorBox.querySelector('[data-action="retry"]').addEventListener("click", start);
start();
