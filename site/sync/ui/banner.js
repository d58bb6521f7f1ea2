// The status banner: health in one word and colour, the one sentence to
// act on, and the facts behind it (the run going on now, the last run,
// queued pushes, conflicts). Reads sync-status, which touches nothing.

import * as sync from "../syncClient.js";
import { h, show, time } from "./dom.js";

const HEALTH = {
  never_run: "Not run yet",
  ok: "All good",
  attention: "Needs attention",
  failing: "Failing",
};

/** "1 conflict(s) waiting for you, 2 settled by the policy to review". */
function conflictWords({ open_conflicts: open, conflicts_waiting: waiting }) {
  const settled = open - waiting;
  const said = [];
  if (waiting > 0) said.push(`${waiting} conflict(s) waiting for you`);
  if (settled > 0) said.push(`${settled} conflict(s) settled by the policy, to review`);
  return said.join("; ");
}

export function createBanner(app) {
  const banner = document.getElementById("banner");
  const word = document.getElementById("health-word");
  const message = document.getElementById("health-message");
  const facts = document.getElementById("banner-facts");
  const count = document.getElementById("conflict-count");

  function render(status) {
    banner.dataset.health = status.health;
    word.textContent = HEALTH[status.health] ?? status.health;
    message.textContent = status.message;
    const last = status.last_run;
    show(
      facts,
      status.running &&
        h("li", { class: "running" }, "A sync is running now, since ", time(status.running.taken_at), "."),
      last &&
        h(
          "li",
          {},
          "Last run: ",
          time(last.finished_at),
          `, ${last.mode}, `,
          last.held ? "was held (nothing changed)." : last.ok ? "went through." : "failed.",
        ),
      status.last_ok_at && !last?.ok && h("li", {}, "Last good sync: ", time(status.last_ok_at), "."),
      status.queued_pushes > 0 &&
        h("li", {}, `${status.queued_pushes} push(es) queued: sent when Notion can be reached again.`),
      status.open_conflicts > 0 && h("li", {}, h("a", { href: "#conflicts" }, conflictWords(status)), "."),
    );
    count.textContent = status.open_conflicts > 0 ? `(${status.open_conflicts})` : "";
  }

  async function load() {
    try {
      render(await sync.status());
    } catch (error) {
      if (app.keyRefused(error)) return;
      banner.dataset.health = "failing";
      word.textContent = "Can't tell";
      message.textContent = [error.message, error.hint].filter(Boolean).join(" ");
      show(facts);
    }
  }

  return { load };
}
