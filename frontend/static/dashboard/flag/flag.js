// One flag: what was flagged and why, its timeline, the improvement it is part of (or ways to
// start or join one: improvement.js), and the actions the role may take.
//
// The page keeps the last ETag it saw and sends it with every write (If-Match). When someone
// else changed the flag first, the server answers 412; the page then shows a banner with a
// Reload button that fetches the latest version while the forms keep what was typed.
// #flag[data-state] is loading | ready | error, for CSS and the browser tests.

import { request } from "../api.js";
import { toast } from "../common.js";
import { loadCatalog } from "../flag-format.js";
import { setupActions } from "./actions.js";
import { improvementSection } from "./improvement.js";
import { renderTimeline } from "./timeline.js";
import { displayOf, renderHeader, renderSections } from "./view.js";

const root = document.getElementById("flag");
const flagId = root.dataset.flagId;
const content = document.getElementById("flag-content");
const loading = document.getElementById("flag-loading");
const errorBox = document.getElementById("flag-error");
const banner = document.getElementById("conflict-banner");
const reloadButton = document.getElementById("reload-flag");

let flag = null;
let etag = null;
let catalog = null;
let actions = null;
let improvement = null;
// The form whose send hit the conflict: after Reload, focus goes back to it.
let conflictedForm = null;

// --- the way back to the queue -----------------------------------------------------------------

/**
 * The queue view this page was opened from, passed along as ?from=<the queue's query string>.
 * Rebuilt through URLSearchParams so only a query string can come through, never another URL.
 */
function queueSearch() {
  const from = new URLSearchParams(location.search).get("from") || "";
  if (!from.startsWith("?")) return "";
  const params = new URLSearchParams(from);
  const text = params.toString();
  return text ? `?${text}` : "";
}

const fromQueue = queueSearch();
document.getElementById("back-link").href = `/dashboard/queue${fromQueue}`;

/** Links to other flags (a duplicate's original) keep the same way back. */
function hrefForFlag(id) {
  const from = fromQueue ? `?from=${encodeURIComponent(fromQueue)}` : "";
  return `/dashboard/flags/${encodeURIComponent(id)}${from}`;
}

// --- showing a version of the flag -------------------------------------------------------------

function setState(state) {
  root.dataset.state = state;
  loading.hidden = state !== "loading";
  errorBox.hidden = state !== "error";
  content.hidden = state !== "ready";
}

/** Show a new version of the flag everywhere on the page (after a load or a write). */
function apply(detail, newEtag) {
  flag = detail;
  etag = newEtag;
  document.title = `${displayOf(flag)} · Flag · ValueLoop`;
  renderHeader(document.getElementById("flag-header"), flag, catalog, hrefForFlag);
  renderSections(content, flag, catalog);
  renderTimeline(document.getElementById("timeline"), flag, catalog, hrefForFlag);
  actions.update(flag);
  improvement.update(flag);
  setState("ready");
}

/** GET the flag: { data, etag }; the ETag is what the next write sends as If-Match. */
function fetchFlag() {
  return request(`flags/${encodeURIComponent(flagId)}`);
}

async function start() {
  setState("loading");
  try {
    catalog = await loadCatalog();
    if (!actions) {
      actions = setupActions({ flagId, catalog, flag: () => flag, write });
      improvement = improvementSection({ flagId, flagCatalog: catalog, flag: () => flag, refreshFlag });
    }
    const { data, etag: newEtag } = await fetchFlag();
    apply(data, newEtag);
  } catch (error) {
    errorBox.querySelector('[data-slot="text"]').textContent = error.status === 404
      ? "There is no flag with this id. It may have been mistyped."
      : `The flag could not be loaded: ${error.message}`;
    setState("error");
  }
}

/** Show the latest version (after a change made elsewhere on the page, e.g. a link). */
async function refreshFlag() {
  const { data, etag: newEtag } = await fetchFlag();
  apply(data, newEtag);
}

// --- writing -----------------------------------------------------------------------------------

/**
 * Send one change, based on the version on screen. `clear` empties the form that sent it, and
 * runs only on success (before the new version is shown), so a failure never loses a draft.
 */
async function write(path, { method = "POST", body, clear } = {}) {
  try {
    const { data, etag: newEtag } = await request(`flags/${encodeURIComponent(flagId)}${path}`, {
      method,
      body,
      ifMatch: etag,
    });
    if (clear) clear();
    apply(data, newEtag);
  } catch (error) {
    if (error.conflict) showConflict();
    throw error;
  }
}

// Which form sent last (its button is disabled while sending, so focus cannot tell).
let lastSubmitted = null;
content.addEventListener("submit", (event) => { lastSubmitted = event.target; }, true);

function showConflict() {
  conflictedForm = lastSubmitted;
  banner.hidden = false;
  reloadButton.focus();
}

/** Fetch the latest version (new ETag, new timeline); the forms keep their text. */
async function reload() {
  reloadButton.disabled = true;
  try {
    const { data, etag: newEtag } = await fetchFlag();
    apply(data, newEtag);
    banner.hidden = true;
    toast("Reloaded: this is the latest version. What you typed is kept.");
    const target = conflictedForm && conflictedForm.querySelector('button[type="submit"]');
    (target || document.getElementById("flag-title")).focus();
    conflictedForm = null;
  } catch (error) {
    toast(`Could not reload: ${error.message}`);
  } finally {
    reloadButton.disabled = false;
  }
}

reloadButton.addEventListener("click", reload);
errorBox.querySelector('[data-action="retry"]').addEventListener("click", start);

start();
