// A run's per-contact results, as "Sync now" and the history show them:
// each contact with its state, what was done, why it failed (with a retry),
// and its conflicts (with a way to resolve them).

import * as sync from "../syncClient.js";
import { badge, fieldWords, h, value, valueText } from "./dom.js";

const RECORD_STATE = {
  synced: ["synced", "Synced"],
  failed: ["failed", "Failed"],
  deferred: ["queued", "Next run"],
  planned: ["queued", "Planned"],
  invalid: ["failed", "Invalid"],
};

function who(record) {
  return record.contact_id ? `${record.company_name} (#${record.contact_id})` : record.company_name;
}

/**
 * The records of a run report as a list. `app` opens conflicts and
 * refreshes the page after a retry.
 */
export function recordList(report, app) {
  const records = report?.records ?? [];
  if (records.length === 0) return h("p", { class: "muted" }, "No contact needed a change.");
  return h("ul", { class: "records", "aria-label": "Contacts in this run" }, records.map((r) => recordItem(r, app)));
}

function recordItem(record, app) {
  const waiting = (record.conflicts ?? []).some((c) => !c.applied);
  const [kind, label] = waiting ? ["queued", "Waiting for you"] : (RECORD_STATE[record.status] ?? ["queued", record.status]);
  const state = h("span", { class: "record-state" }, badge(kind, label));
  const note = h("p", { class: "record-error" }, record.error ?? "");
  const item = h(
    "li",
    { class: "record", "data-contact": record.contact_id ?? "" },
    h("div", { class: "record-head" }, h("strong", {}, who(record)), state),
    h("p", { class: "record-actions" }, record.actions.join("; ")),
    record.error ? note : null,
    (record.conflicts ?? []).map((c) =>
      h(
        "p",
        { class: "record-conflict" },
        `Conflict on ${fieldWords(c.field)}: Notion says `,
        value(valueText(c.notion)),
        ", the dialer says ",
        value(valueText(c.dialer)),
        ". ",
        record.contact_id
          ? h("button", { type: "button", class: "link", onclick: () => app.openConflict(record.contact_id) }, "Resolve…")
          : null,
      ),
    ),
  );
  if (record.status === "failed" && record.contact_id) {
    const retry = h("button", { type: "button", class: "small" }, `Retry ${record.company_name}`);
    retry.addEventListener("click", async () => {
      retry.disabled = true;
      const outcome = await sync.syncContact(record.contact_id, (s) => {
        state.replaceChildren(badge(s.state, sync.stateLabel(s.state)));
      });
      note.textContent = outcome.state === "synced" ? "" : outcome.message;
      if (!item.contains(note)) item.append(note);
      retry.disabled = outcome.state === "synced";
      if (outcome.error && app.keyRefused(outcome.error)) return;
      app.refresh();
    });
    item.append(h("div", { class: "actions" }, retry));
  }
  return item;
}

