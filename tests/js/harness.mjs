// What every fidelity test file shares: the emulator binary started once per
// file, its control API, the official client for a Notion-Version, raw HTTP
// for what the client cannot send, and the checks on Notion's answers.
//
// Every test runs under each version in VERSIONS (see `eachVersion`).
import { before, after, beforeEach, describe } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { Client, APIResponseError } from "@notionhq/client";

export const VERSIONS = ["2025-09-03", "2026-03-11"];

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const targetDir = process.env.CARGO_TARGET_DIR ?? path.join(repoRoot, "target");
const binary = path.join(targetDir, "debug", "notion-emulator");

export const TOKEN = "secret_js_fidelity_token";
// Given undashed, as users paste it; the API answers dashed.
export const DATABASE_ID_RAW = "5C3B1A2D4E6F4A8B9C0D1E2F3A4B5C6D";
export const DATABASE_ID = "5c3b1a2d-4e6f-4a8b-9c0d-1e2f3a4b5c6d";

export const emulator = { baseUrl: undefined };
let child;

async function startEmulator() {
  if (!existsSync(binary)) {
    execFileSync("cargo", ["build", "-p", "notion-emulator"], { cwd: repoRoot, stdio: "inherit" });
  }
  child = spawn(binary, ["--port", "0", "--rate-limit", "100000"], {
    env: { ...process.env, NOTION_API_TOKEN: TOKEN, NOTION_DATABASE_ID: DATABASE_ID_RAW },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout });
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`emulator exited early with ${code}`)));
    lines.on("line", (line) => {
      const m = line.match(/^notion-emulator listening on (http:\/\/127\.0\.0\.1:\d+)$/);
      if (m) resolve(m[1]);
    });
  });
}

/** Starts the emulator for this file and resets it before every test. */
export function useEmulator() {
  before(async () => {
    emulator.baseUrl = await startEmulator();
  });
  after(() => {
    child?.kill();
  });
  beforeEach(async () => {
    await control("POST", "reset");
    await control("POST", "rate-limit", { budget: 100000, window_seconds: 60 });
    await control("POST", "workspace-rate-limit", {});
    await control("POST", "query-lag", { seconds: 0 });
    await control("POST", "clock", { unfreeze: true });
  });
}

/** One `describe` per API version, handed the version. */
export function eachVersion(name, body) {
  for (const version of VERSIONS) {
    describe(`${name} (Notion-Version ${version})`, () => body(version));
  }
}

export async function control(method, route, body) {
  const res = await fetch(`${emulator.baseUrl}/_emulator/${route}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  assert.ok(res.ok, `control ${route}: ${JSON.stringify(json)}`);
  return json;
}

const silent = { logLevel: "error", logger: () => {} };

/** The official client speaking `version`, without retries unless asked. */
export const client = (version, extra = {}) =>
  new Client({ auth: TOKEN, baseUrl: emulator.baseUrl, notionVersion: version, retry: false, ...silent, ...extra });

/** A raw request, for what the official client cannot send. */
export async function raw(version, method, route, body, token = TOKEN) {
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  if (version) headers["notion-version"] = version;
  const res = await fetch(`${emulator.baseUrl}${route}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

export const fixture = (name) => JSON.parse(readFileSync(path.join(repoRoot, "tests/js/fixtures", name), "utf8"));

/**
 * A recorded 2025-09-03 body as `version` shapes it: 2026-03-11 removes
 * `archived` from every object (upgrade guide for 2026-03-11).
 */
export function asVersion(body, version) {
  if (version < "2026-03-11") return body;
  const strip = (v) => {
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === "object") {
      return Object.fromEntries(Object.entries(v).filter(([k]) => k !== "archived").map(([k, x]) => [k, strip(x)]));
    }
    return v;
  };
  return strip(body);
}

export const title = (text) => ({ title: [{ type: "text", text: { content: text } }] });
export const contact = (name, dialerId) => ({ Name: title(name), "Dialer ID": { number: dialerId } });
export const paragraph = (text, extra = {}) => ({ paragraph: { rich_text: [{ text: { content: text } }], ...extra } });

export async function dataSourceId(notion) {
  const db = await notion.databases.retrieve({ database_id: DATABASE_ID_RAW });
  return db.data_sources[0].id;
}

/** The error body of a rejected client call. */
export async function errorBody(promise) {
  let body;
  await assert.rejects(promise, (err) => {
    assert.ok(APIResponseError.isAPIResponseError(err), `not an APIResponseError: ${err}`);
    body = JSON.parse(err.body);
    return true;
  });
  return body;
}

/** Asserts a 400 `validation_error` and returns its message. */
export async function refusal(promise, status = 400, code = "validation_error") {
  const body = await errorBody(promise);
  assert.equal(body.object, "error");
  assert.equal(body.status, status, JSON.stringify(body));
  assert.equal(body.code, code, JSON.stringify(body));
  return body.message;
}

/**
 * Same keys and value types, recursively. `open` paths may hold extra keys.
 * A tagged union (`{"type": "x", "x": ...}`, e.g. `parent`) whose variant
 * differs only has to carry its own `type` key.
 */
export function sameShape(expected, actual, where = "$", open = new Set(["$.properties", "$.results[0].properties"])) {
  const kind = (v) => (v === null ? "null" : Array.isArray(v) ? "array" : typeof v);
  assert.equal(kind(actual), kind(expected), `${where}: expected ${kind(expected)}, got ${kind(actual)}`);
  if (kind(expected) === "array") {
    if (expected.length > 0 && actual.length > 0) sameShape(expected[0], actual[0], `${where}[0]`, open);
    return;
  }
  if (kind(expected) !== "object") return;
  if (typeof expected.type === "string" && typeof actual.type === "string" && expected.type !== actual.type) {
    assert.ok(actual.type in actual, `${where}: variant ${actual.type} lacks its ${actual.type} key`);
    return;
  }
  for (const key of Object.keys(expected)) {
    assert.ok(key in actual, `${where}: missing key ${key}`);
    sameShape(expected[key], actual[key], `${where}.${key}`, open);
  }
  if (!open.has(where)) {
    for (const key of Object.keys(actual)) assert.ok(key in expected, `${where}: unexpected key ${key}`);
  }
}
