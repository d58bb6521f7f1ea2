// Backups in the console: a slip in the dialer pushed to Notion is listed
// with the value it replaced, and "Restore this contact" puts it back on
// both sides.

import { test } from "node:test";
import assert from "node:assert/strict";
import { screenshot, sharedBrowser, signedIn, skip, startSite } from "./harness.mjs";

const chromium = sharedBrowser();

test("a contact is restored from a backup on both sides", { skip }, async (t) => {
  const site = await startSite();
  t.after(() => site.stop());
  await site.api("sync-to-notion", {});
  // A slip in the dialer, pushed right after the call.
  await site.dialer.edit(1001, { phone: "555-9999" });
  await site.api("sync-to-notion", { contactId: "1001" });
  assert.equal(await site.notion.text(1001, "Phone"), "555-9999");

  const page = await signedIn(chromium.browser, site);
  const backup = page.locator("#backups .backup", { hasText: "Acme Corp (#1001)" });
  await backup.getByText("Phone in Notion: was (415) 555-0100, the sync set 555-9999").waitFor();
  await screenshot(page, "backups");

  await backup.getByRole("button", { name: "Restore this contact" }).click();
  await page.locator("#backups").getByText("Acme Corp is back as it was before that run: Phone (415) 555-0100.").waitFor();
  assert.equal((await site.dialer.get(1001)).phone, "(415) 555-0100");
  assert.equal(await site.notion.text(1001, "Phone"), "(415) 555-0100");
  assert.deepEqual(page.pageErrors, []);
});
