// Wires the in-EHR page: load the launch context, show the orders, and keep the page's state
// in main#app[data-state] (loading | ready | empty | ehr-error | expired), which CSS and the
// browser tests both read.

import { api } from "./api.js";
import { announce } from "./dom.js";
import { configure, flushPending, openFlagForm } from "./flag-form.js";
import { MyFlags } from "./my-flags.js";
import { Outcomes } from "./outcomes.js";
import { renderBanner, renderOrders, renderWarnings } from "./orders.js";

const app = document.getElementById("app");
const myFlags = new MyFlags(app);
new Outcomes(app);

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

// The EHR launched ValueLoop on one order (fhirContext, e.g. from a CDS card's link): scroll to
// it and open its flag form, focus inside, with no extra click. An order already flagged is
// only scrolled to. Returns the order whose form was opened, if any.
function openFocusOrder(list, context) {
  if (!context.focus_order) return null;
  const order = context.orders.find((o) => `${o.resource_type}/${o.fhir_id}` === context.focus_order);
  const li = order && list.querySelector(`li[data-order-id="${CSS.escape(context.focus_order)}"]`);
  if (!li) return null;
  const opened = li.dataset.flagged !== "true";
  if (opened) openFlagForm(li, order, li.querySelector('button[data-action="flag"]'));
  // After focusing: the order's name and marker at the top, its reasons below them in view
  // (focusing alone may leave the chosen reason under the form's sticky Submit bar).
  li.scrollIntoView({ block: "start" });
  return opened ? order : null;
}

async function load() {
  setState("loading");
  try {
    const context = await api("/context");
    applyStyle(context.style);
    renderSignedIn(context.signed_in);
    renderBanner(app.querySelector('[data-slot="banner"]'), context.patient);
    renderWarnings(app.querySelector('[data-slot="warnings"]'), context.warnings);
    const list = app.querySelector("ul.orders");
    renderOrders(list, context.orders, openFlagForm);
    setState(context.orders.length ? "ready" : "empty");
    const focused = openFocusOrder(list, context);
    announce(
      (context.orders.length
        ? `${context.orders.length} orders in this encounter.`
        : "There are no orders in this encounter.") +
        (focused ? ` The flag form for ${focused.display} is open.` : ""),
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
