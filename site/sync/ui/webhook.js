// "Live updates from Notion": the webhook subscription as it stands, what
// to do next, the verification token to paste into Notion (with a copy
// button), and "Start over" for a subscription created again in Notion.

import * as sync from "../syncClient.js";
import { attempt, badge, h, show, time } from "./dom.js";

export function createWebhook(app) {
  const body = document.getElementById("webhook-body");

  async function load() {
    const sub = await attempt(app, body, () => sync.webhook());
    if (!sub) return;
    body.dataset.verified = String(sub.verified);
    show(
      body,
      h(
        "p",
        {},
        sub.verified ? badge("synced", "On") : badge("queued", sub.verificationToken ? "Waiting for Notion" : "Off"),
        " ",
        sub.next,
      ),
      sub.verificationToken && !sub.verified ? token(sub.verificationToken) : null,
      sub.lastEventAt ? h("p", { class: "muted" }, "Last event from Notion: ", time(sub.lastEventAt)) : null,
      sub.verificationToken ? startOver() : null,
    );
  }

  function token(value) {
    const field = h("input", { id: "webhook-token", readonly: "", value, spellcheck: "false", "aria-label": "Verification token" });
    const copy = h("button", { type: "button" }, "Copy token");
    const copied = h("span", { class: "muted", "aria-live": "polite" });
    copy.addEventListener("click", async () => {
      field.select();
      try {
        await navigator.clipboard.writeText(value);
        copied.textContent = " Copied.";
      } catch {
        copied.textContent = " Select the token and copy it.";
      }
    });
    return h("div", { class: "actions" }, field, copy, copied);
  }

  function startOver() {
    const button = h("button", { type: "button", class: "quiet" }, "Start over");
    button.addEventListener("click", async () => {
      if (!confirm("Forget this subscription? Create it again in Notion afterwards.")) return;
      button.disabled = true;
      await attempt(app, body, () => sync.resetWebhook());
      await load();
    });
    return h("div", { class: "actions" }, button);
  }

  return { load };
}
