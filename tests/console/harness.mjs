// What the console's browser tests stand on: the local site (the binary
// behind scripts/local-site: the real function binaries over the Notion
// emulator and the official Blobs server, and the published console at
// /sync/), and headless Chromium from Debian's packages, driven by
// playwright-core (no browser is downloaded).
//
// Both stand-ins are reached the way the tests need to act as people on
// either side: Notion through the emulator's control API (a person's edit,
// a property removed, the database unshared, a fault), the dialer through
// the official @netlify/blobs client (a contact saved or read, as the
// dialer does).

import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { after, before } from "node:test";
import { getStore } from "@netlify/blobs";
import { chromium } from "playwright-core";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const targetDir = path.resolve(repoRoot, process.env.CARGO_TARGET_DIR || "target");
export const screenshotDir = path.join(targetDir, "console-screenshots");

/** Debian's Chromium (apt-get install chromium), or CHROMIUM_PATH. */
export const chromiumPath = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

/**
 * Why the browser tests cannot run here, or false. On CI they never skip:
 * a missing browser is a failure there.
 */
export const skip =
  !existsSync(chromiumPath) && !process.env.CI
    ? `no Chromium at ${chromiumPath}: install Debian's package (apt-get install chromium; scripts/test does when it may) or set CHROMIUM_PATH`
    : false;

// Chromium as this machine runs it: no sandbox (tests run as root), no GPU,
// and none of its own background connections (the network is closed).
const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export const LAPTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

let built = false;

/**
 * Starts a local site: the real functions over fresh stand-ins with the
 * local site's samples (dialer: Acme Corp 1001, Blue Bottle Dental 1002;
 * Notion: a page typed by a person, Cedar Roofing). `env` is more
 * environment for the functions. Stop it with `stop()`.
 */
export async function startSite({ env = {} } = {}) {
  if (!built) {
    execFileSync("cargo", ["build", "--quiet", "-p", "test-harness", "--bin", "local-site"], { cwd: repoRoot, stdio: "inherit" });
    built = true;
  }
  const key = `console-test-${randomBytes(8).toString("hex")}`;
  const args = ["--port", "0", "--json", "--key", key];
  for (const [name, value] of Object.entries(env)) args.push("--env", `${name}=${value}`);
  const child = spawn(path.join(targetDir, "debug", "local-site"), args, {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr = (stderr + chunk).slice(-8000);
  });
  const ready = await new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`local-site exited early (${code}): ${stderr}`)));
    createInterface({ input: child.stdout }).once("line", (line) => resolve(JSON.parse(line)));
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  return {
    url: ready.site,
    console: ready.console,
    key,
    notion: notionSide(ready.notion),
    dialer: dialerSide(ready.blobs),
    /** Calls a function as the dialer's code would (for setting the scene). */
    async api(fn, body) {
      const response = await fetch(`${ready.site}/api/${fn}`, {
        method: body === undefined ? "GET" : "POST",
        headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const json = await response.json();
      if (!response.ok) throw new Error(`${fn} answered ${response.status}: ${JSON.stringify(json)}`);
      return json;
    },
    logs: () => stderr,
    async stop() {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** Notion as a person and as the test see it (the emulator's control API). */
function notionSide(base) {
  const control = async (method, route, body) => {
    const response = await fetch(`${base}/_emulator/${route}`, {
      method,
      headers: { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await response.json();
    if (!response.ok) throw new Error(`emulator ${route}: ${response.status} ${JSON.stringify(json)}`);
    return json;
  };
  const side = {
    async pages() {
      return (await control("GET", "pages")).pages.filter((p) => !p.in_trash);
    },
    async pageOf(dialerId) {
      const pages = await side.pages();
      return pages.find((p) => p.properties["Dialer ID"]?.number === Number(dialerId)) ?? null;
    },
    /** A property's value as text (phone, URL, title or text properties). */
    async text(dialerId, property) {
      const page = await side.pageOf(dialerId);
      return page ? propertyText(page.properties[property]) : null;
    },
    /** A person edits the page with Dialer ID `dialerId` in Notion. */
    async edit(dialerId, properties) {
      const page = await side.pageOf(dialerId);
      return control("PATCH", `person/pages/${page.id}`, { properties });
    },
    removeProperty: (name) => control("POST", "schema/remove", { name }),
    setShared: (shared) => control("POST", "shared", { shared }),
    fault: (fault) => control("POST", "faults", fault),
    clearFaults: () => control("DELETE", "faults"),
    /** Notion's webhook: the subscription to `url` (its verification POST), a person's Verify, a delivery round. */
    subscribeWebhook: (url) => control("POST", "webhooks/subscribe", { url }),
    verifyWebhook: async (token) => (await control("POST", "webhooks/verify", { token })).verified,
    deliverWebhooks: async () => (await control("POST", "webhooks/deliver", {})).sent,
  };
  return side;
}

function propertyText(property) {
  if (!property) return null;
  for (const kind of ["phone_number", "url", "email"]) if (kind in property) return property[kind];
  const runs = property.title ?? property.rich_text;
  return runs ? runs.map((t) => t.plain_text ?? t.text?.content ?? "").join("") : null;
}

/** The dialer's contacts store, as the dialer reads and writes it. */
function dialerSide(blobs) {
  const store = getStore({
    name: "contacts",
    siteID: blobs.siteID,
    token: blobs.token,
    edgeURL: blobs.url,
    uncachedEdgeURL: blobs.url,
    consistency: "strong",
  });
  const side = {
    get: (id) => store.get(String(id), { type: "json" }),
    async all() {
      const { blobs: listed } = await store.list();
      return Promise.all(listed.map((b) => store.get(b.key, { type: "json" })));
    },
    /** The dialer saves a contact (one blob per contact, key = its id). */
    put: (contact) => store.setJSON(String(contact.id), contact),
    /** A person edits contact `id` in the dialer (which stamps updatedAt). */
    async edit(id, changes) {
      const contact = await side.get(id);
      await store.setJSON(String(id), { ...contact, ...changes, updatedAt: new Date().toISOString() });
    },
  };
  return side;
}

/** Headless Chromium from Debian's packages (Playwright gives it a new empty profile). */
export function launchBrowser() {
  return chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_FLAGS });
}

/**
 * One browser for a test file: launched before its tests, closed after.
 * Returns a holder whose `browser` is set once launched.
 */
export function sharedBrowser() {
  const holder = { browser: null };
  before(async () => {
    if (!skip) holder.browser = await launchBrowser();
  });
  after(() => holder.browser?.close());
  return holder;
}

/**
 * A new tab at laptop size on the console, failing the test on any error
 * the page throws.
 */
export async function openConsole(browser, site) {
  const context = await browser.newContext({ viewport: LAPTOP });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error));
  page.pageErrors = errors;
  await page.goto(site.console);
  return page;
}

/** A new tab on the console, signed in with the site's key and loaded. */
export async function signedIn(browser, site) {
  const page = await openConsole(browser, site);
  await enterKey(page, site.key);
  await loaded(page);
  return page;
}

/** Types the key into the console's prompt. */
export async function enterKey(page, key) {
  const prompt = page.getByRole("dialog", { name: "Enter the sync key" });
  await prompt.getByLabel("Sync key", { exact: true }).fill(key);
  await prompt.getByRole("button", { name: "Continue" }).click();
}

/** Waits until the console is signed in and every part of it loaded. */
export async function loaded(page) {
  await page.getByRole("dialog", { name: "Enter the sync key" }).waitFor({ state: "hidden" });
  await page.locator("#banner:not([data-health=loading])").waitFor();
  await settled(page);
}

/** Waits until no part of the page is reloading (after a run, an answer, a restore). */
export function settled(page) {
  return page.locator("main:not([aria-busy])").waitFor();
}

/**
 * Saves the page as it looks now, at laptop and at phone width:
 * target/console-screenshots/<name>-laptop.png and -phone.png (the whole
 * page, or the screen when a dialog is open over it).
 */
export async function screenshot(page, name) {
  await settled(page);
  mkdirSync(screenshotDir, { recursive: true });
  const size = page.viewportSize();
  const fullPage = (await page.locator("dialog[open]").count()) === 0;
  for (const [label, viewport] of [["laptop", LAPTOP], ["phone", PHONE]]) {
    await page.setViewportSize(viewport);
    await page.screenshot({ path: path.join(screenshotDir, `${name}-${label}.png`), fullPage });
  }
  await page.setViewportSize(size);
}

/**
 * Presses Tab until the focused element is the one named `name` (its
 * accessible name, as a screen reader says it), as a keyboard user
 * reaches it; fails if it never gets there.
 */
export async function tabTo(page, name) {
  for (let presses = 0; presses < 100; presses++) {
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => {
      const el = document.activeElement;
      return (el?.getAttribute("aria-label") || el?.textContent || "").trim();
    });
    if (focused === name) return;
  }
  throw new Error(`Tab never reached ${JSON.stringify(name)}`);
}

/**
 * Holds the requests to `/api/<fn>` until `release()` is called, so a test
 * can see the page's "Syncing…" state before the answer comes; after it,
 * they go straight through.
 */
export async function holdRequests(page, fn) {
  let release;
  const gate = new Promise((resolve) => {
    release = resolve;
  });
  await page.route(`**/api/${fn}`, async (route) => {
    await gate;
    await route.continue();
  });
  return { release };
}
