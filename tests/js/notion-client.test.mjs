// Fidelity suite: the official @notionhq/client (pinned 5.26.0) against the
// emulator binary, for every call the sync makes, plus shape checks against
// fixtures that reproduce real Notion responses. Every test runs under each
// Notion-Version the sync may speak (harness.mjs VERSIONS).
//
// Run: cargo build -p notion-emulator && node --test tests/js/
import { test } from "node:test";
import assert from "node:assert/strict";
import { Client, APIResponseError, APIErrorCode } from "@notionhq/client";
import {
  asVersion,
  contact,
  control,
  client,
  DATABASE_ID,
  DATABASE_ID_RAW,
  dataSourceId,
  eachVersion,
  emulator,
  errorBody,
  fixture,
  sameShape,
  TOKEN,
  useEmulator,
} from "./harness.mjs";

useEmulator();

const silent = { logLevel: "error", logger: () => {} };

eachVersion("the calls the sync makes", (version) => {
const notion = { get: () => client(version) };
test("users.me, databases.retrieve and dataSources.retrieve", async () => {
  const me = await notion.get().users.me({});
  assert.equal(me.object, "user");
  assert.equal(me.type, "bot");
  const db = await notion.get().databases.retrieve({ database_id: DATABASE_ID_RAW });
  assert.equal(db.id, DATABASE_ID);
  assert.equal(db.title[0].plain_text, "Sales CRM");
  assert.equal(db.data_sources.length, 1);
  const ds = await notion.get().dataSources.retrieve({ data_source_id: db.data_sources[0].id });
  assert.equal(ds.object, "data_source");
  assert.equal(ds.parent.database_id, DATABASE_ID);
  assert.equal(ds.properties["Dialer ID"].type, "number");
  assert.deepEqual(
    ds.properties.Outcome.select.options.map((o) => o.name),
    ["DM", "GK", "NA"],
  );
});

test("pages.create, retrieve, update and trash", async () => {
  const data_source_id = await dataSourceId(notion.get());
  const created = await notion.get().pages.create({
    parent: { type: "data_source_id", data_source_id },
    properties: {
      ...contact("Acme Corp", 12345),
      Phone: { phone_number: "+1 415 555 0100" },
      Outcome: { select: { name: "DM" } },
      "Last Call": { date: { start: "2026-09-15T09:00:00-07:00" } },
      "Had Conversation": { checkbox: true },
    },
  });
  assert.equal(created.object, "page");
  assert.match(created.last_edited_time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:00\.000Z$/);
  const got = await notion.get().pages.retrieve({ page_id: created.id });
  assert.equal(got.properties["Dialer ID"].number, 12345);
  assert.equal(got.properties.Name.title[0].plain_text, "Acme Corp");

  const updated = await notion.get().pages.update({
    page_id: created.id,
    properties: { "Total Dials": { number: 4 }, Notes: { rich_text: [{ text: { content: "Call back" } }] } },
  });
  assert.equal(updated.properties["Total Dials"].number, 4);
  assert.equal(updated.properties["Dialer ID"].number, 12345, "omitted properties keep their values");

  const trashed = await notion.get().pages.update({ page_id: created.id, in_trash: true });
  assert.equal(trashed.in_trash, true);
  const { results } = await notion.get().dataSources.query({ data_source_id });
  assert.equal(results.length, 0, "trashed pages are not queried");
});

test("dataSources.query: Dialer ID filter, last_edited_time window, pagination past 100", async () => {
  const data_source_id = await dataSourceId(notion.get());
  await control("POST", "clock", { freeze_at: "2026-09-01T10:00:00Z" });
  for (let i = 0; i < 150; i++) {
    await control("POST", "person/pages", { properties: contact(`Contact ${i}`, i) });
  }
  await control("POST", "clock", { advance_seconds: 600 });
  const late = await notion.get().pages.create({ parent: { data_source_id }, properties: contact("Late", 999) });

  const byId = await notion.get().dataSources.query({
    data_source_id,
    filter: { property: "Dialer ID", number: { equals: 42 } },
  });
  assert.equal(byId.results.length, 1);
  assert.equal(byId.results[0].properties.Name.title[0].plain_text, "Contact 42");

  const changed = await notion.get().dataSources.query({
    data_source_id,
    filter: { timestamp: "last_edited_time", last_edited_time: { on_or_after: "2026-09-01T10:05:00Z" } },
    sorts: [{ timestamp: "last_edited_time", direction: "ascending" }],
  });
  assert.deepEqual(changed.results.map((p) => p.id), [late.id]);

  const all = [];
  let cursor;
  let calls = 0;
  do {
    const page = await notion.get().dataSources.query({ data_source_id, start_cursor: cursor, page_size: 100 });
    calls++;
    all.push(...page.results);
    cursor = page.has_more ? page.next_cursor : undefined;
  } while (cursor);
  assert.equal(calls, 2);
  assert.equal(new Set(all.map((p) => p.id)).size, 151);
});

test("blocks.children.append and list", async () => {
  const data_source_id = await dataSourceId(notion.get());
  const page = await notion.get().pages.create({ parent: { data_source_id }, properties: contact("Acme", 1) });
  const appended = await notion.get().blocks.children.append({
    block_id: page.id,
    children: [
      { object: "block", type: "paragraph", paragraph: { rich_text: [{ type: "text", text: { content: "Called: DM" } }] } },
      { type: "to_do", to_do: { rich_text: [{ text: { content: "Send deck" } }], checked: false } },
    ],
  });
  assert.equal(appended.results.length, 2);
  const listed = await notion.get().blocks.children.list({ block_id: page.id, page_size: 1 });
  assert.equal(listed.results[0].paragraph.rich_text[0].plain_text, "Called: DM");
  assert.equal(listed.has_more, true);
  const rest = await notion.get().blocks.children.list({ block_id: page.id, start_cursor: listed.next_cursor });
  assert.equal(rest.results[0].type, "to_do");
  assert.equal(rest.has_more, false);
});

async function rejectsWith(promise, code, status) {
  await assert.rejects(promise, (err) => {
    assert.ok(APIResponseError.isAPIResponseError(err), `not an APIResponseError: ${err}`);
    assert.equal(err.code, code);
    assert.equal(err.status, status);
    return true;
  });
}

test("errors surface as the SDK's APIResponseError codes", async () => {
  const bad = new Client({ auth: "wrong", baseUrl: emulator.baseUrl, notionVersion: version, retry: false, ...silent });
  await rejectsWith(bad.users.me({}), APIErrorCode.Unauthorized, 401);
  await rejectsWith(
    notion.get().databases.retrieve({ database_id: "0123456789abcdef0123456789abcdef" }),
    APIErrorCode.ObjectNotFound,
    404,
  );
  const data_source_id = await dataSourceId(notion.get());
  await rejectsWith(
    notion.get().pages.create({ parent: { data_source_id }, properties: { Phone: { phone_number: "1".repeat(201) } } }),
    APIErrorCode.ValidationError,
    400,
  );

  await control("POST", "rate-limit", { budget: 1, window_seconds: 60 });
  await notion.get().users.me({});
  await assert.rejects(notion.get().users.me({}), (err) => {
    assert.equal(err.code, APIErrorCode.RateLimited);
    assert.equal(err.status, 429);
    const retryAfter = Number(err.headers.get("retry-after"));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `retry-after ${retryAfter}`);
    assert.equal(JSON.parse(err.body).additional_data.rate_limit_reason, "public_api_request_rate_limit");
    return true;
  });
});

test("the SDK's own retries recover from an injected 503 on a GET", async () => {
  const page = await control("POST", "person/pages", { properties: contact("Retry me", 7) });
  await control("POST", "faults", { route: "pages.retrieve", kind: "status", status: 503, times: 1 });
  const retrying = client(version, { retry: { maxRetries: 2, initialRetryDelayMs: 20, maxRetryDelayMs: 50 } });
  const got = await retrying.pages.retrieve({ page_id: page.id });
  assert.equal(got.id, page.id);
  const { requests } = await control("GET", "requests");
  assert.deepEqual(
    requests.filter((r) => r.route === "pages.retrieve").map((r) => r.status),
    [503, 200],
  );
});

test("responses have the shape of recorded Notion responses", async () => {
  const db = await notion.get().databases.retrieve({ database_id: DATABASE_ID_RAW });
  sameShape(asVersion(fixture("database.json"), version), db);
  const data_source_id = db.data_sources[0].id;
  sameShape(asVersion(fixture("data-source.json"), version), await notion.get().dataSources.retrieve({ data_source_id }));

  const page = await notion.get().pages.create({
    parent: { data_source_id },
    properties: {
      ...contact("Tuscan kale", 12345),
      Phone: { phone_number: "+1 415 555 0100" },
      Website: { url: "https://example.com" },
      Outcome: { select: { name: "DM" } },
      Tags: { multi_select: [{ name: "Hot" }] },
      "Last Call": { date: { start: "2026-02-22T09:00:00", time_zone: "America/Los_Angeles" } },
      "Had Conversation": { checkbox: true },
      Notes: { rich_text: [{ text: { content: "A dark " } }, { text: { content: "green" }, annotations: { color: "green" } }] },
      "Assigned To": { people: [{ id: (await control("GET", "info")).person_user_ids[0] }] },
    },
  });
  sameShape(asVersion(fixture("page.json"), version), page);
  sameShape(asVersion(fixture("page.json"), version), await notion.get().pages.retrieve({ page_id: page.id }));
  // Notion renders a written time_zone as the offset, and answers time_zone null.
  assert.deepEqual(page.properties["Last Call"].date, {
    start: "2026-02-22T09:00:00.000-08:00",
    end: null,
    time_zone: null,
  });

  const list = await notion.get().dataSources.query({ data_source_id, page_size: 1 });
  sameShape(asVersion(fixture("query-list.json"), version), list);
  assert.ok(!("request_id" in list.results[0]), "pages inside a list carry no request_id");

  await notion.get().blocks.children.append({
    block_id: page.id,
    children: [{ paragraph: { rich_text: [{ text: { content: "Called: DM, follow up Friday" } }] } }],
  });
  sameShape(asVersion(fixture("block-list.json"), version), await notion.get().blocks.children.list({ block_id: page.id }));
});

test("error bodies and messages match recorded Notion errors", async () => {
  const data_source_id = await dataSourceId(notion.get());
  const page = await notion.get().pages.create({ parent: { data_source_id }, properties: contact("Acme", 1) });

  // Text length: the recorded message, with the path of an append.
  const recorded = fixture("error-validation.json");
  const tooLong = await errorBody(
    notion.get().blocks.children.append({
      block_id: page.id,
      children: [{ paragraph: { rich_text: [{ text: { content: "x".repeat(2001) } }] } }],
    }),
  );
  sameShape(recorded, tooLong);
  assert.equal(tooLong.message, recorded.message.replace("body.paragraph", "body.children[0].paragraph"));
  const phone = await errorBody(
    notion.get().pages.update({ page_id: page.id, properties: { Phone: { phone_number: "1".repeat(201) } } }),
  );
  sameShape(recorded, phone);
  assert.equal(
    phone.message,
    "body failed validation: body.properties.Phone.phone_number.length should be ≤ `200`, instead was `201`.",
  );
  // Wrong value type and unknown property: Notion's wording, as quoted from real 400s.
  const wrongType = await errorBody(
    notion.get().pages.update({ page_id: page.id, properties: { Notes: { select: { name: "x" } } } }),
  );
  assert.equal(wrongType.message, "Notes is expected to be rich_text.");
  const unknown = await errorBody(
    notion.get().pages.update({ page_id: page.id, properties: { Stage: { rich_text: [] } } }),
  );
  assert.equal(unknown.message, "Stage is not a property that exists.");

  const notFound = fixture("error-object-not-found.json");
  const missing = await errorBody(notion.get().pages.retrieve({ page_id: "00000000-0000-0000-0000-000000000000" }));
  sameShape(notFound, missing);
  assert.equal(missing.message, notFound.message.replace('"notion-sdk-py"', '"Dialer Sync"'));
  assert.equal(missing.additional_data.integration_id, (await notion.get().users.me({})).id);

  const bad = new Client({ auth: "wrong", baseUrl: emulator.baseUrl, notionVersion: version, retry: false, ...silent });
  const unauthorized = await errorBody(bad.users.me({}));
  sameShape(fixture("error-unauthorized.json"), unauthorized);
  assert.equal(unauthorized.message, fixture("error-unauthorized.json").message);

  const noVersion = await fetch(`${emulator.baseUrl}/v1/users/me`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(noVersion.status, 400);
  const versionBody = await noVersion.json();
  sameShape(fixture("error-missing-version.json"), versionBody);
  assert.equal(versionBody.message, fixture("error-missing-version.json").message);

  await control("POST", "rate-limit", { budget: 0, window_seconds: 60 });
  const limited = await errorBody(notion.get().users.me({}));
  sameShape(fixture("error-rate-limited.json"), limited);
  assert.equal(limited.message, fixture("error-rate-limited.json").message);
});
});
