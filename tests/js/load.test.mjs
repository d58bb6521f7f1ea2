// Notion under load and over time, held to the official client: both rate
// limits, 529 service_overload, read-after-write lag of queries, and the
// Free plan's block limit. Every test runs under each Notion-Version.
import { test } from "node:test";
import assert from "node:assert/strict";
import { APIErrorCode } from "@notionhq/client";
import {
  client,
  contact,
  control,
  dataSourceId,
  eachVersion,
  errorBody,
  paragraph,
  raw,
  useEmulator,
} from "./harness.mjs";

useEmulator();

/** The 429 of a rejected call: its body and Retry-After. */
async function limited(promise) {
  let out;
  await assert.rejects(promise, (err) => {
    assert.equal(err.code, APIErrorCode.RateLimited);
    assert.equal(err.status, 429);
    out = { body: JSON.parse(err.body), retryAfter: Number(err.headers.get("retry-after")) };
    return true;
  });
  assert.equal(out.body.additional_data.retry_after, String(out.retryAfter), "the body repeats Retry-After");
  return out;
}

eachVersion("rate limits", (version) => {
  test("per connection: a budget per 60 s window, Retry-After to its end", async () => {
    await control("POST", "rate-limit", { budget: 2, window_seconds: 60 });
    const notion = client(version);
    await notion.users.me({});
    await notion.users.me({});
    const { body, retryAfter } = await limited(notion.users.me({}));
    assert.equal(body.additional_data.rate_limit_reason, "public_api_request_rate_limit");
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
  });

  test("per workspace: shared by every connection, Retry-After past a minute", async () => {
    const other = "secret_second_integration";
    await control("POST", "connections", { token: other });
    await control("POST", "workspace-rate-limit", { budget: 2, window_seconds: 150 });
    await client(version).users.me({});
    const theirs = await raw(version, "GET", "/v1/users/me", undefined, other);
    assert.equal(theirs.status, 200);
    const { body, retryAfter } = await limited(client(version).users.me({}));
    assert.equal(body.additional_data.rate_limit_reason, "public_api_space_request_rate_limit");
    assert.ok(retryAfter > 60, `Retry-After ${retryAfter} may exceed a minute`);
  });

  test("529 service_overload carries Retry-After, and the client waits it out", async () => {
    await control("POST", "faults", { route: "users.me", kind: "status", status: 529 });
    const overload = await errorBody(client(version).users.me({}));
    assert.equal(overload.code, "service_overload");
    assert.equal(overload.additional_data.retry_after, "1");
    await control("POST", "faults", { route: "users.me", kind: "status", status: 529 });
    const patient = client(version, { retry: { maxRetries: 1 } });
    assert.equal((await patient.users.me({})).object, "user");
  });
});

eachVersion("read-after-write lag", (version) => {
  test("a new or edited page is missing or stale in queries while retrieve is current", async () => {
    await control("POST", "clock", { freeze_at: "2026-09-14T10:00:00Z" });
    await control("POST", "query-lag", { seconds: 30 });
    const notion = client(version);
    const data_source_id = await dataSourceId(notion);
    const byDialerId = { property: "Dialer ID", number: { equals: 42 } };
    const page = await notion.pages.create({ parent: { data_source_id }, properties: contact("Acme", 42) });
    assert.equal((await notion.dataSources.query({ data_source_id, filter: byDialerId })).results.length, 0);
    assert.equal((await notion.pages.retrieve({ page_id: page.id })).id, page.id);

    await control("POST", "clock", { advance_seconds: 31 });
    assert.equal((await notion.dataSources.query({ data_source_id, filter: byDialerId })).results.length, 1);
    await notion.pages.update({ page_id: page.id, properties: { "Total Dials": { number: 5 } } });
    const [stale] = (await notion.dataSources.query({ data_source_id, filter: byDialerId })).results;
    assert.equal(stale.properties["Total Dials"].number, null, "stale in the query");
    assert.equal((await notion.pages.retrieve({ page_id: page.id })).properties["Total Dials"].number, 5);
    await control("POST", "clock", { advance_seconds: 31 });
    const [fresh] = (await notion.dataSources.query({ data_source_id, filter: byDialerId })).results;
    assert.equal(fresh.properties["Total Dials"].number, 5);
  });
});

eachVersion("the Free plan's block limit", (version) => {
  test("past its grace period, requests that create blocks fail; edits and reads work", async () => {
    const notion = client(version);
    const data_source_id = await dataSourceId(notion);
    const page = await notion.pages.create({ parent: { data_source_id }, properties: contact("Acme", 1) });
    await control("POST", "block-limit", { past_grace: true });
    for (const write of [
      () => notion.pages.create({ parent: { data_source_id }, properties: contact("Beta", 2) }),
      () => notion.blocks.children.append({ block_id: page.id, children: [paragraph("Called: DM")] }),
    ]) {
      const body = await errorBody(write());
      assert.deepEqual(
        { status: body.status, code: body.code, additional_data: body.additional_data },
        { status: 403, code: "restricted_resource", additional_data: { block_limit: "block_creation" } },
      );
      assert.equal(
        body.message,
        "This workspace has used all of its free blocks. Upgrade its plan in Notion to create more content. Learn more: https://www.notion.com/help/understanding-block-usage",
      );
    }
    const edited = await notion.pages.update({ page_id: page.id, properties: { "Total Dials": { number: 3 } } });
    assert.equal(edited.properties["Total Dials"].number, 3);
    await notion.pages.update({ page_id: page.id, in_trash: true });
    assert.equal((await notion.dataSources.query({ data_source_id, in_trash: true })).results.length, 1);
  });

  test("the write that reaches the limit succeeds, and three days of grace follow", async () => {
    await control("POST", "clock", { freeze_at: "2026-09-14T10:00:00Z" });
    await control("POST", "block-limit", { limit: 1000, used: 998 });
    const notion = client(version);
    const data_source_id = await dataSourceId(notion);
    const page = await notion.pages.create({ parent: { data_source_id }, properties: contact("Acme", 1) });
    await notion.blocks.children.append({ block_id: page.id, children: [paragraph("reaches 1000")] });
    await notion.blocks.children.append({ block_id: page.id, children: [paragraph("in grace")] });
    await control("POST", "clock", { advance_seconds: 3 * 24 * 3600 });
    const body = await errorBody(notion.blocks.children.append({ block_id: page.id, children: [paragraph("no")] }));
    assert.equal(body.additional_data.block_limit, "block_creation");
  });
});
