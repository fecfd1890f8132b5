// The Admin page: API tokens, the staff directory, registered EHRs, the price list, the
// (read-only) catalog, webhooks and undelivered notifications. Each section loads on its own, so one failing request leaves the others usable. The server serves this page to
// admins only and checks every call again; sections a role could not use are removed anyway.

import { staff } from "../api.js";
import "../common.js";
import { CatalogSection } from "./catalog.js";
import { DeliveriesSection } from "./deliveries.js";
import { EhrsSection } from "./ehrs.js";
import { PricesSection } from "./prices.js";
import { StaffSection } from "./staff.js";
import { TokensSection } from "./tokens.js";
import { WebhooksSection } from "./webhooks.js";

const SECTIONS = [
  { id: "tokens", permission: "manage_tokens", Section: TokensSection },
  { id: "staff", permission: "manage_staff", Section: StaffSection },
  { id: "ehrs", permission: "manage_ehrs", Section: EhrsSection },
  { id: "prices", permission: "manage_prices", Section: PricesSection },
  { id: "catalog", permission: "read_flags", Section: CatalogSection },
  { id: "webhooks", permission: "manage_notifications", Section: WebhooksSection },
  { id: "deliveries", permission: "manage_notifications", Section: DeliveriesSection },
];

for (const { id, permission, Section } of SECTIONS) {
  const element = document.getElementById(id);
  if (!staff.can(permission)) {
    element.remove();
    document.querySelector(`.admin-nav a[href="#${id}"]`)?.parentElement.remove();
    continue;
  }
  new Section(element).load();
}

// In-page links move focus with the scroll, so keyboard and screen-reader users land there too.
for (const link of document.querySelectorAll(".admin-nav a")) {
  link.addEventListener("click", () => {
    const heading = document.querySelector(`${link.getAttribute("href")} h2`);
    if (heading) requestAnimationFrame(() => heading.focus());
  });
}
