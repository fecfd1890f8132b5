// Wires the in-EHR page: load the launch context, show the orders, and keep the page's state
// in main#app[data-state] (loading | ready | empty | ehr-error | expired), which CSS and the
// browser tests both read.

import { api } from "./api.js";
import { announce } from "./dom.js";
import { configure, flushPending, openFlagForm } from "./flag-form.js";
import { MyFlags } from "./my-flags.js";
import { renderBanner, renderOrders, renderWarnings } from "./orders.js";

const app = document.getElementById("app");
const myFlags = new MyFlags(app);

function setState(state) {
  app.dataset.state = state;
  app.setAttribute("aria-busy", String(state === "loading"));
}

function expire() {
  setState("expired");
  announce("Your ValueLoop session has ended. Open ValueLoop again from the EHR.");
}

// The EHR's style hints (already checked server-side for contrast and safe characters).
// Set through the CSSOM, which the page's CSP (style-src 'self') permits.
function applyStyle(style) {
  if (!style) return;
  const root = document.documentElement.style;
  if (style.accent) {
    root.setProperty("--accent", style.accent);
    root.setProperty("--focus", style.accent);
  }
  if (style.font_family) root.setProperty("font-family", style.font_family);
}

// Who the EHR says is signed in: the name an identified flag carries.
function renderSignedIn(user) {
  const line = app.querySelector('[data-testid="signed-in"]');
  const who = user && (user.name || user.email);
  line.textContent = who ? `Signed in as ${who}` : "The EHR did not say who is signed in.";
  line.hidden = false;
}

async function load() {
  setState("loading");
  try {
    const context = await api("/context");
    applyStyle(context.style);
    renderSignedIn(context.signed_in);
    renderBanner(app.querySelector('[data-slot="banner"]'), context.patient);
    renderWarnings(app.querySelector('[data-slot="warnings"]'), context.warnings);
    renderOrders(app.querySelector("ul.orders"), context.orders, openFlagForm);
    setState(context.orders.length ? "ready" : "empty");
    announce(
      context.orders.length
        ? `${context.orders.length} orders in this encounter.`
        : "There are no orders in this encounter.",
    );
  } catch (error) {
    if (error.expired) {
      expire();
      return;
    }
    const text = app.querySelector('[data-slot="ehr-error-text"]');
    text.textContent = error.problem.detail || "The EHR did not answer, so the orders could not be loaded.";
    setState("ehr-error");
    announce("The orders could not be loaded.");
  }
}

app.querySelector('[data-action="retry"]').addEventListener("click", load);

configure({
  onSent: () => myFlags.refresh(),
  onPending: (orders) => myFlags.setPending(orders),
  onExpired: expire,
});

// A flag still in its undo window leaves now if the EHR hides or unloads the panel.
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "hidden") flushPending();
});
window.addEventListener("pagehide", flushPending);

load();
myFlags.refresh({ notify: true });
