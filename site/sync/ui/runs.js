// "Sync to Notion", "Pull from Notion" and "Sync both ways": one run at a
// time, its live state (Syncing… then Synced, Failed, Queued or Held), what
// it did per contact, and a retry when it failed.

import * as sync from "../syncClient.js";
import { badge, h, problem, show } from "./dom.js";
import { recordList } from "./records.js";

/** The Dialer IDs typed under "Only some contacts". */
function onlyIds() {
  const typed = document.getElementById("only-ids").value;
  return typed.split(/[\s,;]+/).filter(Boolean);
}

// Pushing every contact is a run of both sides (the sync merges each record
// both ways, so a push never overwrites an edit made in Notion): "Sync both
// ways" is that run; "Sync to Notion" is it too unless contacts are named.
const RUNS = {
  push: { title: "Sync to Notion", start: (force) => sync.syncToNotion({ contactIds: onlyIds(), force }) },
  pull: { title: "Pull from Notion", start: (force) => sync.pullFromNotion({ force }) },
  both: { title: "Sync both ways", start: (force) => sync.syncToNotion({ force }) },
};

export function setupRuns(app) {
  const buttons = [...document.querySelectorAll("[data-run]")];
  const result = document.getElementById("run-result");

  async function start(kind, force = false) {
    const { title, start: begin } = RUNS[kind];
    const button = buttons.find((b) => b.dataset.run === kind);
    for (const b of buttons) b.disabled = true;
    button.setAttribute("aria-busy", "true");
    button.textContent = sync.stateLabel("syncing");
    result.dataset.state = "syncing";
    show(result, h("p", { class: "state-line" }, badge("syncing", sync.stateLabel("syncing")), ` ${title}…`));
    let outcome;
    try {
      outcome = await begin(force);
    } catch (error) {
      outcome = { state: "failed", error, report: null };
    } finally {
      button.removeAttribute("aria-busy");
      button.textContent = title;
      for (const b of buttons) b.disabled = false;
    }
    if (outcome.error && app.keyRefused(outcome.error)) {
      show(result);
      return;
    }
    render(kind, outcome);
    app.refresh();
  }

  function render(kind, outcome) {
    const { title } = RUNS[kind];
    result.dataset.state = outcome.state;
    const again = (label, force = false) =>
      h("button", { type: "button", onclick: () => start(kind, force) }, label);
    show(
      result,
      h("p", { class: "state-line" }, badge(outcome.state, sync.stateLabel(outcome.state)), ` ${title}`),
      outcome.error
        ? problem(outcome.error, h("div", { class: "actions" }, again("Retry")))
        : h("p", { class: "outcome" }, outcome.message),
      outcome.state === "failed" && !outcome.error && h("div", { class: "actions" }, again("Retry")),
      outcome.state === "held" &&
        h(
          "div",
          { class: "actions" },
          h("p", { class: "help" }, "Nothing was changed. If this many changes are what you meant, run it anyway."),
          again("Run it anyway", true),
        ),
      outcome.report && recordList(outcome.report, app),
    );
  }

  for (const button of buttons) button.addEventListener("click", () => start(button.dataset.run));
}
