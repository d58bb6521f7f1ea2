// The sync key in the console: asked for once, kept in the tab's session
// storage, sent as `Authorization: Bearer`, never in a URL or the page's
// source; a wrong key is said so and asked for again.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { enterKey, loaded, openConsole, screenshot, sharedBrowser, skip, startSite } from "./harness.mjs";

const chromium = sharedBrowser();
let site;

before(async () => {
  if (!skip) site = await startSite();
});

after(() => site?.stop());

test("a wrong key is said so and asked again; the right one is kept for the tab", { skip }, async () => {
  const page = await openConsole(chromium.browser, site);
  const apiCalls = [];
  page.on("request", (request) => {
    if (request.url().includes("/api/")) apiCalls.push(request);
  });
  const prompt = page.getByRole("dialog", { name: "Enter the sync key" });
  await prompt.waitFor();
  await screenshot(page, "key-prompt");

  await enterKey(page, "not-the-key");
  await prompt.getByText("That key was refused (the API key is wrong)").waitFor();
  assert.ok(await prompt.isVisible(), "asked again");
  await screenshot(page, "key-wrong");

  await enterKey(page, site.key);
  await loaded(page);
  await page.getByText("No sync has run yet.").waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem("dialerSync.apiKey")), site.key);

  // Sent as a bearer header, never in a URL.
  assert.ok(apiCalls.length > 0);
  for (const request of apiCalls) assert.ok(!request.url().includes(site.key), request.url());
  const last = apiCalls.at(-1);
  assert.equal(await last.headerValue("authorization"), `Bearer ${site.key}`);
  assert.ok(!page.url().includes(site.key));

  // Kept for the tab: a reload asks nothing.
  await page.reload();
  await loaded(page);
  assert.ok(!(await prompt.isVisible()));

  // A new tab asks again (session storage is per tab).
  const other = await page.context().newPage();
  await other.goto(site.console);
  await other.getByRole("dialog", { name: "Enter the sync key" }).waitFor();
  assert.deepEqual(page.pageErrors, []);
});

test("a key that stops working is dropped and asked for again", { skip }, async () => {
  const page = await openConsole(chromium.browser, site);
  await page.evaluate(() => sessionStorage.setItem("dialerSync.apiKey", "an-old-key"));
  await page.reload();
  const prompt = page.getByRole("dialog", { name: "Enter the sync key" });
  await prompt.getByText("The key was refused: the API key is wrong. Enter it again.").waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem("dialerSync.apiKey")), null);
  await enterKey(page, site.key);
  await loaded(page);
  assert.deepEqual(page.pageErrors, []);
});
