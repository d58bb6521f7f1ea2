// "Test Notion Connection": each step of the check in plain words, what
// to fix where one failed, and the first contacts as the dialer would
// store them.

import * as sync from "../syncClient.js";
import { badge, h, problem, show } from "./dom.js";

const STEP = {
  token: "The integration's token",
  database: "The database, shared with the integration",
  schema: "The database's properties",
  read: "Reading contacts",
};

export function setupConnection(app) {
  const button = document.getElementById("test-connection");
  const result = document.getElementById("connection-result");

  button.addEventListener("click", async () => {
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    show(result, h("p", {}, badge("syncing", "Testing…")));
    try {
      render(await sync.testConnection());
    } catch (error) {
      if (app.keyRefused(error)) show(result);
      else show(result, problem(error));
    } finally {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  });

  function render(check) {
    result.dataset.ok = String(check.ok);
    show(
      result,
      h(
        "p",
        { class: "state-line" },
        check.ok ? badge("synced", "Ready to sync") : badge("failed", "Not ready"),
        check.ok ? " Notion is set up for the sync." : " Fix the step marked ✗, then test again.",
      ),
      h("ol", { class: "steps" }, check.steps.map(step)),
      check.sample.length > 0 &&
        h(
          "div",
          {},
          h("h3", {}, "The first contacts, as the dialer would store them"),
          h("ul", { class: "sample" }, check.sample.map(contact)),
        ),
    );
  }

  function step(s) {
    return h(
      "li",
      { class: `step ${s.ok ? "ok" : "bad"}`, "data-step": s.name },
      h("span", { class: "mark", "aria-hidden": "true" }, s.ok ? "✓" : "✗"),
      h("div", {}, h("strong", {}, STEP[s.name] ?? s.name, s.ok ? ": OK" : ": needs a fix"), h("p", {}, s.message), s.fix && h("p", { class: "fix" }, h("strong", {}, "How to fix: "), s.fix)),
    );
  }

  function contact(c) {
    const bits = [c.phone, c.website, c.id ? `Dialer ID ${c.id}` : "no Dialer ID yet"].filter(Boolean);
    return h("li", {}, h("strong", {}, c.companyName || "(no name)"), ` · ${bits.join(" · ")}`);
  }
}
