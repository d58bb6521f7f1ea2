// Live updates in the console: the verification token Notion sent shows
// with a copy button, pasting it into Notion turns the subscription on, and
// a teammate's edit in Notion then reaches the dialer through the webhook.

import { test } from "node:test";
import assert from "node:assert/strict";
import { screenshot, sharedBrowser, signedIn, skip, startSite } from "./harness.mjs";

const chromium = sharedBrowser();

test("the webhook's token shows in the console and Notion's edits arrive through it", { skip }, async (t) => {
  const site = await startSite();
  t.after(() => site.stop());
  await site.api("sync-to-notion", {});

  const page = await signedIn(chromium.browser, site);
  const section = page.locator("#webhook");
  await section.getByText("Create the subscription in Notion").waitFor();

  const sent = await site.notion.subscribeWebhook(`${site.url}/api/notion-webhook`);
  assert.equal(sent.status, 200);
  await page.reload();
  await section.getByText("Waiting for Notion").waitFor();
  const token = await section.getByLabel("Verification token").inputValue();
  assert.match(token, /^secret_/);
  await section.getByRole("button", { name: "Copy token" }).waitFor();
  await screenshot(page, "webhook");
  // The person pastes it into Notion's Verify dialog: Notion accepts only its own.
  assert.equal(await site.notion.verifyWebhook(token), true);

  await site.notion.edit(1001, { Name: { title: [{ text: { content: "Acme Inc" } }] } });
  const deliveries = await site.notion.deliverWebhooks();
  assert.ok(deliveries.length > 0 && deliveries.every((d) => d.status === 200), JSON.stringify(deliveries));
  assert.equal((await site.dialer.get(1001)).companyName, "Acme Inc");

  await page.reload();
  await section.getByText("The subscription works").waitFor();
  assert.equal(await section.getByLabel("Verification token").count(), 0);
  assert.deepEqual(page.pageErrors, []);
});
