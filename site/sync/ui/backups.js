// Backups of the last days: every value a sync replaced, by contact and
// run, with "Restore this contact" (both sides put back as they were
// before that run).

import * as sync from "../syncClient.js";
import { attempt, fieldWords, h, problem, show, time, value, valueText } from "./dom.js";

const SHOWN = 20;
const SIDE = { notion: "in Notion", dialer: "in the dialer" };

export function createBackups(app) {
  const body = document.getElementById("backups-body");
  let done = null;

  async function load() {
    const backups = await attempt(app, body, () => sync.backups(SHOWN));
    if (!backups) return;
    show(
      body,
      done,
      backups.length === 0
        ? h("p", { class: "muted" }, "No backups: no sync has replaced a value lately.")
        : h("ul", { class: "backups" }, backups.map(item)),
    );
  }

  function item(backup) {
    const outcome = h("div", { "aria-live": "polite" });
    const restore = h("button", { type: "button" }, "Restore this contact");
    restore.addEventListener("click", async () => {
      restore.disabled = true;
      show(outcome, h("p", { class: "muted" }, "Restoring on both sides…"));
      try {
        const restored = await sync.restore(backup.run_id, backup.contact_id);
        const values = Object.entries(restored.values)
          .map(([field, value]) => `${fieldWords(field)} ${valueText(value)}`)
          .join(", ");
        done = h("p", { class: "done", role: "status", tabindex: "-1" }, `${backup.company_name} is back as it was before that run: ${values}.`);
        await app.refresh();
        done.focus();
      } catch (error) {
        restore.disabled = false;
        if (!app.keyRefused(error)) show(outcome, problem(error));
      }
    });
    return h(
      "li",
      { class: "backup", "data-contact": backup.contact_id, "data-run-id": backup.run_id },
      h("div", { class: "record-head" }, h("strong", {}, `${backup.company_name} (#${backup.contact_id})`), h("span", { class: "muted" }, "before the sync of ", time(backup.taken_at))),
      h(
        "ul",
        { class: "replaced" },
        backup.replaced.map((r) =>
          h("li", {}, `${fieldWords(r.field)} ${SIDE[r.side] ?? r.side}: was `, value(valueText(r.before)), ", the sync set ", value(valueText(r.after))),
        ),
        backup.archived_page && h("li", {}, "The sync archived its Notion page: restore the page from Notion's trash."),
      ),
      h("div", { class: "actions" }, restore),
      outcome,
    );
  }

  return { load };
}
