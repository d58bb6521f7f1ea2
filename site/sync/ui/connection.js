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
      h("ol", { class: "steps" }, check.steps.map((s) => step(s, check.schema))),
      check.sample.length > 0 &&
        h(
          "div",
          {},
          h("h3", {}, "The first contacts, as the dialer would store them"),
          h("ul", { class: "sample" }, check.sample.map(contact)),
        ),
    );
  }

  function step(s, schema) {
    const properties = s.name === "schema" && !s.ok && schema ? schemaFixes(schema) : null;
    // A message that only repeats its fix is said once, as the fix.
    const message = s.fix && s.message.includes(s.fix) ? null : h("p", {}, s.message);
    return h(
      "li",
      { class: `step ${s.ok ? "ok" : "bad"}`, "data-step": s.name },
      h("span", { class: "mark", "aria-hidden": "true" }, s.ok ? "✓" : "✗"),
      h(
        "div",
        {},
        h("strong", {}, STEP[s.name] ?? s.name, s.ok ? ": OK" : ": needs a fix"),
        message,
        properties ?? (s.fix && h("p", { class: "fix" }, h("strong", {}, "How to fix: "), s.fix)),
      ),
    );
  }

  /** The schema check's fixes, one per property, the ones it needs first. */
  function schemaFixes(schema) {
    const items = schema.items.filter((i) => i.fix).sort((a, b) => Number(b.required) - Number(a.required));
    return h(
      "div",
      { class: "fix" },
      h("strong", {}, "How to fix, in Notion (open the database, then + or a column's menu):"),
      h(
        "ul",
        {},
        items.map((i) =>
          h("li", {}, h("strong", {}, `${i.property}${i.required ? " (needed to sync)" : " (optional)"}: `), i.fix),
        ),
      ),
    );
  }

  function contact(c) {
    const bits = [c.phone, c.website, c.id ? `Dialer ID ${c.id}` : "no Dialer ID yet"].filter(Boolean);
    return h("li", {}, h("strong", {}, c.companyName || "(no name)"), ` · ${bits.join(" · ")}`);
  }
}
