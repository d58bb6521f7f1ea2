// "Sync to Notion", "Pull from Notion" and "Sync both ways" in the console,
// with their states (Syncing…, Synced, Failed, Queued), what each contact
// got, the history, and both sides checked afterwards.

import { test } from "node:test";
import assert from "node:assert/strict";
import { holdRequests, screenshot, sharedBrowser, signedIn, skip, startSite } from "./harness.mjs";

const chromium = sharedBrowser();

/** A fresh site and a console signed in to it; both end with the test. */
async function consoleOnFreshSite(t) {
  const site = await startSite();
  t.after(() => site.stop());
  return { site, page: await signedIn(chromium.browser, site) };
}

const result = (page) => page.locator("#run-result");
const record = (page, name) => result(page).locator(".record", { hasText: name });

async function onlyContacts(page, ids) {
  await page.getByText("Only some contacts").click();
  await page.getByLabel("Dialer IDs to send to Notion").fill(ids);
}

test("push one contact, then pull Notion's changes: Syncing…, Synced, and what each contact got", { skip }, async (t) => {
  const { site, page } = await consoleOnFreshSite(t);

  await onlyContacts(page, "1001");
  const held = await holdRequests(page, "sync-to-notion");
  await page.getByRole("button", { name: "Sync to Notion" }).click();
  await page.getByRole("button", { name: "Syncing…" }).waitFor();
  await result(page).getByText("Syncing…", { exact: true }).waitFor();
  assert.ok(await page.getByRole("button", { name: "Pull from Notion" }).isDisabled(), "one run at a time");
  await screenshot(page, "sync-syncing");
  held.release();

  await page.locator('#run-result[data-state="synced"]').waitFor();
  await record(page, "Acme Corp (#1001)").getByText("created in Notion").waitFor();
  await page.getByRole("button", { name: "Sync to Notion" }).waitFor();
  assert.equal(await site.notion.text(1001, "Phone"), "(415) 555-0100");
  assert.equal(await site.notion.pageOf(1002), null, "only the contact named was sent");

  // Someone edits Acme's phone in Notion; a page typed there waits too.
  await site.notion.edit(1001, { Phone: { phone_number: "(415) 555-0199" } });
  const pulling = await holdRequests(page, "sync-from-notion");
  await page.getByRole("button", { name: "Pull from Notion" }).click();
  await page.getByRole("button", { name: "Syncing…" }).waitFor();
  pulling.release();
  await page.locator('#run-result[data-state="synced"]').waitFor();
  await record(page, "Acme Corp (#1001)").getByText("updated in the dialer: phone").waitFor();
  await record(page, "Cedar Roofing").getByText("created in the dialer").waitFor();
  await screenshot(page, "sync-synced");
  assert.equal((await site.dialer.get(1001)).phone, "(415) 555-0199");
  const cedar = (await site.dialer.all()).find((c) => c.companyName === "Cedar Roofing");
  assert.ok(cedar, "the page typed in Notion is a dialer contact now");
  assert.equal(await site.notion.text(cedar.id, "Name"), "Cedar Roofing", "its Dialer ID is on its page");

  // The history: newest first, the newest in full; an older one on request.
  const runs = page.locator("#history-list .run-line");
  await page.locator("#run-detail").getByText("Pull from Notion run of").waitFor();
  assert.equal(await runs.count(), 2);
  await page.locator("#run-detail .record", { hasText: "Cedar Roofing" }).waitFor();
  await runs.nth(1).click();
  await page.locator("#run-detail").getByText("Push of 1 contact(s) run of").waitFor();
  await page.locator("#run-detail .record", { hasText: "Acme Corp (#1001)" }).getByText("created in Notion").waitFor();
  await page.locator("#banner[data-health=ok]").waitFor();
  await screenshot(page, "history");
  assert.deepEqual(page.pageErrors, []);
});

test("a failing sync is shown as failing with its reason, and Retry goes through once fixed", { skip }, async (t) => {
  const { site, page } = await consoleOnFreshSite(t);
  await site.notion.setShared(false);

  await page.getByRole("button", { name: "Sync both ways" }).click();
  await page.locator('#run-result[data-state="failed"]').waitFor();
  await result(page).getByText("In Notion, open the database, ... > Connections, and add the integration.").waitFor();
  await page.locator("#banner[data-health=failing]").getByText("The last sync failed").waitFor();
  await screenshot(page, "sync-failed");

  await site.notion.setShared(true);
  await result(page).getByRole("button", { name: "Retry" }).click();
  await page.locator('#run-result[data-state="synced"]').waitFor();
  await page.locator("#banner[data-health=ok]").waitFor();
  assert.equal(await site.notion.text(1002, "Name"), "Blue Bottle Dental");
  assert.deepEqual(page.pageErrors, []);
});

test("a contact Notion refused is shown failed with the reason; retrying that contact syncs it", { skip }, async (t) => {
  const { site, page } = await consoleOnFreshSite(t);
  await site.notion.fault({ route: "pages.create", kind: "status", status: 400, times: 1 });

  await onlyContacts(page, "1001");
  await page.getByRole("button", { name: "Sync to Notion" }).click();
  await page.locator('#run-result[data-state="failed"]').waitFor();
  const acme = record(page, "Acme Corp (#1001)");
  await acme.getByText("Failed", { exact: true }).waitFor();
  await acme.getByText("Notion rejected the request").waitFor();
  await screenshot(page, "sync-contact-failed");

  await acme.getByRole("button", { name: "Retry Acme Corp" }).click();
  await acme.getByText("Synced", { exact: true }).waitFor();
  assert.equal(await site.notion.text(1001, "Phone"), "(415) 555-0100");
  assert.deepEqual(page.pageErrors, []);
});

test("a push while Notion is down is queued for the scheduled sync", { skip }, async (t) => {
  const { site, page } = await consoleOnFreshSite(t);
  await site.notion.fault({ route: "*", kind: "status", status: 503, times: 1000 });

  await onlyContacts(page, "1001");
  await page.getByRole("button", { name: "Sync to Notion" }).click();
  await page.locator('#run-result[data-state="queued"]').waitFor();
  await result(page).getByText("Saved for the next scheduled sync.").waitFor();
  await page.locator("#banner-facts").getByText("1 push(es) queued").waitFor();
  await screenshot(page, "sync-queued");
  await site.notion.clearFaults();
  assert.deepEqual(page.pageErrors, []);
});

test("a run the brake holds changes nothing, says why, and goes through when asked", { skip }, async (t) => {
  const { site, page } = await consoleOnFreshSite(t);
  await site.api("sync-to-notion", {});
  // An import adds six contacts at once: more than half of what the sync knows.
  for (let id = 2001; id <= 2006; id++) {
    await site.dialer.put({ id: String(id), companyName: `Imported ${id}`, phone: `555-01${id % 100}`, totalDials: 0, callHistory: [] });
  }

  await page.getByRole("button", { name: "Sync both ways" }).click();
  await page.locator('#run-result[data-state="held"]').waitFor();
  await result(page).getByText("this run would create 6 of 9 records").waitFor();
  await page.locator("#banner-facts").getByText("was held (nothing changed)").waitFor();
  assert.equal(await site.notion.pageOf(2001), null, "held: nothing created");
  await screenshot(page, "sync-held");

  await result(page).getByRole("button", { name: "Run it anyway" }).click();
  await page.locator('#run-result[data-state="synced"]').waitFor();
  assert.equal(await site.notion.text(2006, "Name"), "Imported 2006");
  assert.deepEqual(page.pageErrors, []);
});
