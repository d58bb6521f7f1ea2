// The conflicts list and the roadmap's conflict dialog: what Notion says and
// what the dialer says, when each side was last edited, the recommended
// side, and [Keep Notion] [Keep Dialer] [Manual Merge] (per field: either
// side's value, or a value typed here).

import * as sync from "../syncClient.js";
import { attempt, badge, h, problem, show, time, valueText } from "./dom.js";

const SIDE = { notion: "Notion", dialer: "Dialer" };

/** The later of some ISO times (null when there is none). */
function latest(times) {
  const known = times.filter(Boolean).sort();
  return known.length ? known[known.length - 1] : null;
}

function summaryOf(conflict) {
  if (conflict.deletedInDialer) return "Deleted in the dialer, edited in Notion since.";
  return conflict.fields.map((f) => `${f.label}: Notion says ${f.notionText || "(empty)"}, the dialer says ${f.dialerText || "(empty)"}`).join(". ");
}

function settledBy(conflict) {
  const applied = conflict.fields.find((f) => f.applied);
  return applied ? `The sync applied the ${applied.applied === "dialer" ? "dialer's" : "Notion's"} value (${applied.reason}); the other is kept here until you choose.` : null;
}

export function createConflicts(app) {
  const body = document.getElementById("conflicts-body");
  const dialog = document.getElementById("conflict-dialog");
  let listed = [];
  let done = null;

  async function load() {
    const fresh = await attempt(app, body, () => sync.conflicts());
    if (!fresh) return listed;
    listed = fresh;
    show(
      body,
      done,
      listed.length === 0
        ? h("p", { class: "muted" }, "No conflicts: nothing was edited on both sides.")
        : h("ul", { class: "conflicts" }, listed.map(item)),
    );
    return listed;
  }

  function item(conflict) {
    const settled = settledBy(conflict);
    return h(
      "li",
      { class: "conflict", "data-contact": conflict.contactId },
      h(
        "div",
        { class: "record-head" },
        h("strong", {}, `${conflict.companyName} (#${conflict.contactId})`),
        settled ? badge("queued", "To review") : badge("failed", "Waiting for you"),
      ),
      h("p", {}, summaryOf(conflict)),
      settled && h("p", { class: "muted" }, settled),
      h("button", { type: "button", onclick: () => open(conflict.contactId) }, `Resolve ${conflict.companyName}…`),
    );
  }

  /** Opens the dialog for a contact's conflict, as it stands now. */
  async function open(contactId, notice = null) {
    const conflict = listed.find((c) => String(c.contactId) === String(contactId));
    if (!conflict) {
      await load();
      if (listed.some((c) => String(c.contactId) === String(contactId))) return open(contactId, notice);
      done = h("p", { class: "done", role: "status", tabindex: "-1" }, `Contact #${contactId} has no open conflict any more.`);
      await load();
      done.focus();
      return;
    }
    render(conflict, notice);
    if (!dialog.open) dialog.showModal();
    // Shown again after a refusal: the buttons are new, so focus the first.
    else dialog.querySelector(".actions button")?.focus();
  }

  function render(conflict, notice) {
    const notionAt = latest(conflict.fields.map((f) => f.notionEditedAt));
    const dialerAt = latest(conflict.fields.map((f) => f.dialerEditedAt));
    const recommended = conflict.recommended;
    const side = (name, at, text) =>
      h(
        "section",
        { class: `side${recommended === name ? " recommended" : ""}`, "aria-label": `${SIDE[name]} says` },
        h("h3", {}, `${SIDE[name]} says:`, recommended === name ? badge("synced", "Recommended") : null),
        conflict.deletedInDialer && name === "dialer"
          ? h("p", {}, "This contact was deleted.")
          : h("dl", {}, conflict.fields.map((f) => [h("dt", {}, `${f.label}:`), h("dd", {}, text(f) || "(empty)")])),
        h("p", { class: "muted" }, "Last edited: ", at ? time(at) : "not known"),
      );
    const error = h("div", { class: "dialog-error" }, notice);
    const keep = (name, label) =>
      h("button", { type: "button", class: recommended === name ? "primary" : "", onclick: () => answer(conflict, name, error) }, label);
    const merge = mergeForm(conflict, error);
    const buttons = conflict.deletedInDialer
      ? [keep("notion", "Keep Notion (restore the contact)"), keep("dialer", "Keep Dialer (archive the page)")]
      : [
          keep("notion", "Keep Notion"),
          keep("dialer", "Keep Dialer"),
          h("button", { type: "button", "aria-expanded": "false", onclick: (e) => toggle(e.currentTarget, merge) }, "Manual Merge"),
        ];
    show(
      dialog,
      h(
        "div",
        { class: "dialog-body" },
        h("h2", { id: "conflict-title" }, h("span", { "aria-hidden": "true" }, "(!) "), `Conflict detected: ${conflict.companyName}`),
        h("div", { class: "sides" }, side("notion", notionAt, (f) => f.notionText), side("dialer", dialerAt, (f) => f.dialerText)),
        h("p", { class: "recommend" }, `Recommended: Keep ${SIDE[recommended]} version (${conflict.deletedInDialer ? "nothing is lost" : "more recent"})`),
        settledBy(conflict) && h("p", { class: "muted" }, settledBy(conflict)),
        error,
        h("div", { class: "actions" }, buttons, h("button", { type: "button", class: "quiet", onclick: () => dialog.close() }, "Cancel")),
        conflict.deletedInDialer ? null : merge,
      ),
    );
  }

  function toggle(button, merge) {
    const opening = merge.hidden;
    merge.hidden = !opening;
    button.setAttribute("aria-expanded", String(opening));
    if (opening) merge.querySelector("input")?.focus();
  }

  /** Manual merge: per field, Notion's value, the dialer's, or a typed one. */
  function mergeForm(conflict, error) {
    const form = h("form", { class: "merge", hidden: true, "aria-label": "Manual merge" });
    for (const f of conflict.fields) {
      const name = `pick-${f.field}`;
      const typed = h("input", { type: "text", "aria-label": `${f.label}: value to keep`, value: f.dialerText });
      const choice = (value, label) =>
        h("label", { class: "choice" }, h("input", { type: "radio", name, value, checked: value === f.recommended }), label);
      const typedChoice = choice("typed", "Type a value: ");
      typed.addEventListener("focus", () => (typedChoice.querySelector("input").checked = true));
      typedChoice.append(typed);
      form.append(
        h(
          "fieldset",
          { "data-field": f.field },
          h("legend", {}, f.label),
          choice("notion", `Notion: ${f.notionText || "(empty)"}`),
          choice("dialer", `Dialer: ${f.dialerText || "(empty)"}`),
          typedChoice,
        ),
      );
    }
    form.append(h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Save merged version")));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const fields = {};
      for (const set of form.querySelectorAll("fieldset")) {
        const picked = set.querySelector("input[type=radio]:checked")?.value ?? "notion";
        fields[set.dataset.field] = picked === "typed" ? { value: set.querySelector("input[type=text]").value } : picked;
      }
      answer(conflict, fields, error);
    });
    return form;
  }

  /** Sends the person's choice; a side that moved meanwhile reloads the conflict. */
  async function answer(conflict, choice, error) {
    const buttons = dialog.querySelectorAll("button");
    for (const b of buttons) b.disabled = true;
    show(error, h("p", { class: "muted" }, "Saving on both sides…"));
    try {
      const resolved = await sync.resolve(conflict.contactId, choice);
      dialog.close();
      done = h("p", { class: "done", role: "status", tabindex: "-1" }, `${conflict.companyName}: ${describeChoice(choice)}. Now on both sides: ${describeValues(conflict, resolved.values)}.`);
      await app.refresh();
      done.focus();
    } catch (failure) {
      for (const b of buttons) b.disabled = false;
      if (app.keyRefused(failure)) return;
      const notice = problem(failure);
      if (failure.status !== 400) return show(error, notice);
      // Refused: a side moved (the conflict now holds both sides as they
      // are, or is gone), or a typed value was not understood.
      await load();
      const now = listed.find((c) => String(c.contactId) === String(conflict.contactId));
      if (!now) {
        dialog.close();
        done = notice;
        await load();
      } else if (valuesOf(now) !== valuesOf(conflict)) {
        await open(conflict.contactId, notice);
      } else {
        show(error, notice);
      }
    }
  }

  return { load, open };
}

/** Both sides' values of a conflict, to tell whether it moved. */
function valuesOf(conflict) {
  return JSON.stringify(conflict.fields.map((f) => [f.field, f.dialer, f.notion]));
}

function describeChoice(choice) {
  if (choice === "notion") return "kept Notion's version";
  if (choice === "dialer") return "kept the dialer's version";
  return "merged by hand";
}

function describeValues(conflict, values) {
  const label = (field) => conflict.fields.find((f) => f.field === field)?.label ?? field;
  const said = Object.entries(values ?? {}).map(([field, value]) => `${label(field)} ${valueText(value)}`);
  return said.length ? said.join(", ") : "no change";
}
