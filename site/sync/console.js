// The sync console: one page for the team. Each part of the page is its
// own module under ui/; this file asks for the key, loads them, and
// reloads them after anything changed.

import * as sync from "./syncClient.js";
import { askForKey } from "./ui/key.js";
import { createBanner } from "./ui/banner.js";
import { setupRuns } from "./ui/runs.js";
import { createConflicts } from "./ui/conflicts.js";
import { createHistory } from "./ui/history.js";
import { createBackups } from "./ui/backups.js";
import { setupConnection } from "./ui/connection.js";
import { createWebhook } from "./ui/webhook.js";

/** How often the banner is read again while the page is in view. */
const BANNER_EVERY_MS = 20_000;

let reasking = null;

const app = {
  /**
   * What every screen does with a failure it cannot show itself: a
   * refused key asks for the key again, then reloads everything. Returns
   * true when it handled the error.
   */
  keyRefused(error) {
    if (!error?.wrongKey) return false;
    const why = error.code === "no_key" ? "" : `The key was refused: ${error.message}. Enter it again.`;
    reasking ??= askForKey(why).then(() => {
      reasking = null;
      return app.refresh();
    });
    return true;
  },
  /** Reloads what a run or an answer may have changed (main is busy meanwhile). */
  async refresh() {
    const main = document.querySelector("main");
    main.setAttribute("aria-busy", "true");
    try {
      await Promise.all(parts.map((part) => part.load()));
    } finally {
      main.removeAttribute("aria-busy");
    }
  },
  /** Opens a contact's conflict (from a run's results). */
  openConflict(contactId) {
    return conflicts.open(contactId);
  },
};

const banner = createBanner(app);
const conflicts = createConflicts(app);
const parts = [banner, conflicts, createHistory(app), createBackups(app), createWebhook(app)];
setupRuns(app);
setupConnection(app);

const changeKey = document.getElementById("change-key");
changeKey.hidden = false;
changeKey.addEventListener("click", () => {
  sync.forgetKey();
  askForKey().then(() => app.refresh());
});

setInterval(() => {
  const busy = document.querySelector("dialog[open]");
  if (document.visibilityState === "visible" && sync.hasKey() && !busy) banner.load();
}, BANNER_EVERY_MS);

if (sync.hasKey()) app.refresh();
else askForKey().then(() => app.refresh());
