// What every signed-in dashboard page does: sign-out, and a polite status message (toast).
import { request } from "./api.js";

export function toast(message) {
  const region = document.getElementById("toast");
  if (!region) return;
  region.textContent = message;
  region.classList.add("visible");
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => region.classList.remove("visible"), 5000);
}

const signOut = document.getElementById("sign-out");
if (signOut) {
  signOut.addEventListener("click", async () => {
    try {
      await request("session", { method: "DELETE" });
    } finally {
      location.assign("/dashboard/sign-in");
    }
  });
}
