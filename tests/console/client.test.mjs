// syncClient.js as the dialer's own screens use it (README, "The sync
// console"): imported in a page of the site, the key set once, and
// syncContact reporting Syncing then Synced, Queued or Failed.

import { test } from "node:test";
import assert from "node:assert/strict";
import { sharedBrowser, skip, startSite } from "./harness.mjs";

const chromium = sharedBrowser();

/** Runs `syncContact(id)` in the page; resolves the states it reported and its result. */
function syncInPage(page, key, id) {
  return page.evaluate(
    async ([key, id]) => {
      const sync = await import("/sync/syncClient.js");
      sync.setKey(key);
      const states = [];
      const last = await sync.syncContact(id, (s) => states.push(sync.stateLabel(s.state)));
      return { states, message: last.message, wrongKey: last.error?.wrongKey ?? false, keyKept: sync.hasKey() };
    },
    [key, id],
  );
}

test("syncContact: Syncing… then Synced, Queued when Notion is down, Failed (key forgotten) for a wrong key", { skip }, async (t) => {
  const site = await startSite();
  t.after(() => site.stop());
  const page = await chromium.browser.newPage();
  await page.goto(`${site.url}/sync/syncClient.js`);

  const synced = await syncInPage(page, site.key, "1001");
  assert.deepEqual(synced.states, ["Syncing…", "Synced"], synced.message);
  assert.equal(await site.notion.text(1001, "Name"), "Acme Corp");

  await site.notion.fault({ route: "*", kind: "status", status: 503, times: 1000 });
  const queued = await syncInPage(page, site.key, "1002");
  assert.deepEqual(queued.states, ["Syncing…", "Queued"]);
  assert.match(queued.message, /Saved for the next scheduled sync/);
  await site.notion.clearFaults();

  const refused = await syncInPage(page, "not-the-key", "1001");
  assert.deepEqual(refused.states, ["Syncing…", "Failed"]);
  assert.equal(refused.wrongKey, true);
  assert.equal(refused.keyKept, false, "a refused key is forgotten, to be asked again");
  assert.match(refused.message, /the API key is wrong/);
});
