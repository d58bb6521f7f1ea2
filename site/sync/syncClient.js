/**
 * syncClient.js: the dialer's side of the Notion sync, one small ES module
 * with no dependencies. The sync console (/sync/) is built on it, and the
 * dialer's own screens import it for their buttons:
 *
 *   import { syncContact, stateLabel } from "https://YOUR-SITE/sync/syncClient.js";
 *
 *   // CallingInterface, after "Save & Next":
 *   syncContact(contact.id, (s) => setSyncBadge(stateLabel(s.state)));
 *
 * Every call goes to the sync functions (`/api/<function>` on the sync's
 * site; see `configure`) with the site's key, SYNC_API_KEY, as
 * `Authorization: Bearer <key>`. The key is asked of the person once and
 * kept in this tab's sessionStorage (`setKey`): never in source code, never
 * in a URL. A refused key throws a `SyncError` whose `wrongKey` is true
 * (the key is forgotten, so ask for it again).
 *
 * Failures are `SyncError`s carrying what to show: `message` (what went
 * wrong) and `hint` (what to do), both written for the person at the
 * screen.
 */

const KEY_ITEM = "dialerSync.apiKey";

const settings = {
  baseUrl: "/api",
  storage: globalThis.sessionStorage,
};

/**
 * Where the functions are and where the key is kept.
 * @param {{baseUrl?: string, storage?: Storage}} options
 *   `baseUrl`: "/api" (the default) when the page is served by the sync's
 *   own site, else e.g. "https://sync.example.netlify.app/api" (set
 *   DIALER_ORIGIN on that site to the dialer's origin so the browser lets
 *   the dialer call it). `storage`: sessionStorage (the default).
 */
export function configure(options = {}) {
  if (options.baseUrl) settings.baseUrl = options.baseUrl.replace(/\/+$/, "");
  if (options.storage) settings.storage = options.storage;
}

/** Keeps the key for this tab (sessionStorage), for every call after; no key forgets it. */
export function setKey(key) {
  const trimmed = String(key ?? "").trim();
  if (trimmed) settings.storage.setItem(KEY_ITEM, trimmed);
  else forgetKey();
}

/** Whether a key was given in this tab. */
export function hasKey() {
  return Boolean(settings.storage.getItem(KEY_ITEM));
}

/** Forgets the key (it was refused, or the person asked to change it). */
export function forgetKey() {
  settings.storage.removeItem(KEY_ITEM);
}

/** A failed call, with what to tell the person. */
export class SyncError extends Error {
  constructor(message, { status = 0, code = "network", hint = "", body = null } = {}) {
    super(message);
    this.name = "SyncError";
    /** HTTP status, or 0 when the sync could not be reached. */
    this.status = status;
    /** The functions' error code (`notion_not_shared`, `bad_request`, ...). */
    this.code = code;
    /** What to do about it, in plain words (may be empty). */
    this.hint = hint;
    /** The answer's JSON, when there was one. */
    this.body = body;
  }

  /** The key was missing or refused (and has been forgotten). */
  get wrongKey() {
    return this.status === 401;
  }
}

/**
 * One request to a function; resolves `{status, body}` for any 2xx answer.
 * Throws a SyncError for anything else.
 */
async function call(method, fn, { body, query } = {}) {
  const key = settings.storage.getItem(KEY_ITEM);
  if (!key) {
    throw new SyncError("The sync key is needed.", {
      status: 401,
      code: "no_key",
      hint: "Enter the site's SYNC_API_KEY (Netlify: Site configuration > Environment variables).",
    });
  }
  const url = new URL(`${settings.baseUrl}/${fn}`, globalThis.location?.href);
  for (const [name, value] of Object.entries(query ?? {})) url.searchParams.set(name, value);
  const headers = { Authorization: `Bearer ${key}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      referrerPolicy: "no-referrer",
    });
  } catch {
    throw new SyncError("Could not reach the sync (are you offline?).", {
      hint: "Try again in a moment. Saved contacts are also picked up by the scheduled sync every few minutes.",
    });
  }
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (response.ok) return { status: response.status, body: json };
  const error = json?.error ?? {};
  if (response.status === 401) forgetKey();
  throw new SyncError(error.message || `The sync answered ${response.status}.`, {
    status: response.status,
    code: error.code || `http_${response.status}`,
    hint: error.hint || "",
    body: json,
  });
}

// ---------------------------------------------------------------- states

/** The states of a sync as the roadmap draws them. */
export const STATES = Object.freeze({
  syncing: "Syncing…",
  synced: "Synced",
  failed: "Failed",
  queued: "Queued",
  held: "Held",
});

/** "Syncing…", "Synced", "Failed", "Queued" or "Held" for a state name. */
export function stateLabel(state) {
  return STATES[state] ?? state;
}

/**
 * A run's answer (sync-to-notion, sync-from-notion) as one state:
 * `{state, message, report}`; `report` is the run report when it ran.
 */
export function runOutcome({ status, body }) {
  if (status === 202 || body?.status === "queued") {
    return {
      state: "queued",
      message: `${body?.message ?? "Saved for the next scheduled sync."} (${body?.reason ?? "Notion could not be reached"})`,
      report: null,
    };
  }
  const report = body;
  if (report?.held) return { state: "held", message: report.held, report };
  if (report?.error) return { state: "failed", message: report.error, report };
  const failed = (report?.records ?? []).filter((r) => r.status === "failed");
  if (failed.length > 0) {
    const why = failed.map((r) => `${r.company_name}: ${r.error ?? "not written"}`).join("; ");
    return { state: "failed", message: why, report };
  }
  return { state: "synced", message: describeSummary(report?.summary), report };
}

/** "Notion: 1 created, 2 updated · dialer: 1 updated" from a run summary. */
export function describeSummary(summary) {
  if (!summary) return "";
  const side = (name, parts) => {
    const said = parts.filter(([n]) => n > 0).map(([n, what]) => `${n} ${what}`);
    return said.length ? `${name}: ${said.join(", ")}` : null;
  };
  const said = [
    side("Notion", [
      [summary.created_in_notion, "created"],
      [summary.updated_in_notion, "updated"],
      [summary.archived_in_notion, "archived"],
    ]),
    side("dialer", [
      [summary.created_in_dialer, "created"],
      [summary.updated_in_dialer, "updated"],
      [summary.marked_archived_in_dialer, "marked archived"],
    ]),
    summary.calls_logged ? `${summary.calls_logged} call(s) logged` : null,
    summary.conflicts ? `${summary.conflicts} conflict(s)` : null,
    summary.failed ? `${summary.failed} failed` : null,
    summary.remaining ? `${summary.remaining} left for the next run` : null,
  ].filter(Boolean);
  return said.length ? said.join(" · ") : "Nothing to change: both sides agree.";
}

// ---------------------------------------------------------------- calls

/**
 * Syncs one contact right after a call (POST sync-to-notion). `onState`
 * gets `{state, message}` as it goes: "syncing" first, then "synced",
 * "failed" (message says why) or "queued" (Notion unreachable: the
 * scheduled sync sends it). Resolves the last state (with `report`); it
 * never throws, so "Save & Next" is never held up by the sync.
 */
export async function syncContact(id, onState = () => {}) {
  onState({ state: "syncing", message: "" });
  let outcome;
  try {
    outcome = runOutcome(await call("POST", "sync-to-notion", { body: { contactId: String(id) } }));
    if (outcome.state === "held") outcome = { ...outcome, state: "failed" };
  } catch (error) {
    outcome = { state: "failed", message: failureText(error), error, report: null };
  }
  onState(outcome);
  return outcome;
}

/** "message. hint" of a SyncError, for one line on a screen. */
export function failureText(error) {
  return [error.message, error.hint].filter(Boolean).join(" ");
}

/** The banner: health, one sentence to act on, the run going on now, queued pushes, conflicts. */
export async function status() {
  return (await call("GET", "sync-status")).body;
}

/** The Notion connection test: `{ok, steps: [{name, ok, message, fix}], sample}`. */
export async function testConnection() {
  return (await call("GET", "notion-test")).body;
}

/**
 * "Sync to Notion": every contact (no ids), or the ids given. Resolves a
 * `runOutcome`. `force` applies a plan the mass-change brake held.
 */
export async function syncToNotion({ contactIds = [], force = false } = {}) {
  const body = contactIds.length ? { contactIds: contactIds.map(String) } : {};
  if (force) body.force = true;
  return runOutcome(await call("POST", "sync-to-notion", { body }));
}

/** "Pull from Notion": Notion's changes into the dialer. Resolves a `runOutcome`. */
export async function pullFromNotion({ fullScan = false, force = false } = {}) {
  const body = {};
  if (fullScan) body.fullScan = true;
  if (force) body.force = true;
  return runOutcome(await call("POST", "sync-from-notion", { body }));
}

/** The newest runs, newest first (1 to 100). */
export async function history(limit = 10) {
  return (await call("GET", "sync-history", { query: { limit } })).body.runs;
}

/** One run in full, with every record it touched. */
export async function run(runId) {
  return (await call("GET", "sync-history", { query: { run: runId } })).body;
}

/** The open conflicts: both values, who edited when, the recommended side. */
export async function conflicts() {
  return (await call("GET", "sync-conflicts")).body.conflicts;
}

/**
 * Answers one conflict: `choice` is "notion" or "dialer" (every field), or
 * per field `{phone: "notion", address: {value: "1 Main St"}}`. Both sides
 * are written. If either side changed since the conflict was found, it
 * throws a SyncError (400) saying so, and the conflict now shows the
 * current values: load `conflicts()` again and choose again.
 */
export async function resolve(contactId, choice) {
  const body = { contactId: String(contactId) };
  if (typeof choice === "string") body.keep = choice;
  else body.fields = choice;
  return (await call("POST", "sync-conflicts", { body })).body;
}

/** The values syncs overwrote in the last days, newest first. */
export async function backups(limit = 20) {
  return (await call("GET", "sync-backups", { query: { limit } })).body.backups;
}

/** Puts one contact back on both sides as it was before run `runId`. */
export async function restore(runId, contactId) {
  return (await call("POST", "sync-backups", { body: { runId, contactId: String(contactId) } })).body;
}

/**
 * Notion's webhook subscription: `verified`, the `verificationToken` to
 * paste into Notion, `lastEventAt`, and `next`, what to do now.
 */
export async function webhook() {
  return (await call("GET", "notion-webhook")).body;
}

/** Forgets the subscription, to create it again in Notion. */
export async function resetWebhook() {
  return (await call("DELETE", "notion-webhook")).body;
}
