// The history: the newest runs, and one of them in full with every record
// it touched (the newest, unless the person picked another).

import * as sync from "../syncClient.js";
import { attempt, badge, h, show, time } from "./dom.js";
import { recordList } from "./records.js";

const SHOWN = 10;

function runBadge(run) {
  if (run.held) return badge("queued", "Held");
  return run.ok ? badge("synced", "Went through") : badge("failed", "Failed");
}

function modeWords(mode) {
  return mode.charAt(0).toUpperCase() + mode.slice(1);
}

export function createHistory(app) {
  const list = document.getElementById("history-list");
  const detail = document.getElementById("run-detail");
  /** The run the person picked; `null` shows the newest. */
  let picked = null;

  async function load() {
    const runs = await attempt(app, detail, () => sync.history(SHOWN));
    if (!runs) return;
    if (runs.length === 0) {
      show(list, h("li", { class: "muted" }, "No run yet."));
      show(detail);
      return;
    }
    if (!runs.some((r) => r.run_id === picked)) picked = null;
    const shown = picked ?? runs[0].run_id;
    show(list, runs.map((run) => line(run, shown)));
    await showRun(shown);
  }

  function line(run, shown) {
    return h(
      "li",
      {},
      h(
        "button",
        { type: "button", class: "run-line", "aria-pressed": String(run.run_id === shown), "data-run-id": run.run_id, onclick: () => pick(run.run_id) },
        h("span", { class: "run-when" }, time(run.started_at)),
        h("span", { class: "run-mode" }, modeWords(run.mode)),
        runBadge(run),
        h("span", { class: "run-summary" }, run.error ?? run.held ?? sync.describeSummary(run.summary)),
      ),
    );
  }

  async function pick(runId) {
    picked = runId;
    for (const b of list.querySelectorAll(".run-line")) b.setAttribute("aria-pressed", String(b.dataset.runId === runId));
    await showRun(runId);
    detail.querySelector("h3")?.focus();
  }

  async function showRun(runId) {
    const run = await attempt(app, detail, () => sync.run(runId));
    if (!run) return;
    show(
      detail,
      h("h3", { tabindex: "-1" }, modeWords(run.mode), " run of ", time(run.started_at), " ", runBadge({ ...run, ok: !run.error && !run.held && run.summary.failed === 0 })),
      h("p", {}, run.error ?? run.held ?? sync.describeSummary(run.summary)),
      recordList(run, app),
      run.problems.length > 0 &&
        h("ul", { class: "problems", "aria-label": "Problems found" }, run.problems.map((p) => h("li", {}, p.message))),
      run.plan && h("details", {}, h("summary", {}, "The plan, as text"), h("pre", {}, run.plan)),
    );
  }

  return { load };
}
