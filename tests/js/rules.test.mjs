// The emulator refuses what Notion refuses, in Notion's words: one test per
// rule (the table in fixtures/README.md names each rule's source), sent with
// the official client where it can send it and as raw HTTP where it cannot
// (the client drops body keys it does not know, and has no route for
// `POST /v1/databases/{id}/query` any more). Every test runs under each
// Notion-Version.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  client,
  contact,
  control,
  DATABASE_ID,
  dataSourceId,
  eachVersion,
  paragraph,
  raw,
  refusal,
  useEmulator,
} from "./harness.mjs";

useEmulator();

eachVersion("filters are checked before any page is read", (version) => {
  const query = async (filter) => {
    const notion = client(version);
    return notion.dataSources.query({ data_source_id: await dataSourceId(notion), filter });
  };

  test("a value of the wrong type, on an empty data source", async () => {
    // A condition is a union of its operators: Notion lists them all
    // (makenotion/notion-sdk-js#315 recorded the date one).
    assert.equal(
      await refusal(query({ property: "Last Call", date: { equals: "2022-7-10" } })),
      [
        "body failed validation. Fix one:",
        'body.filter.date.equals should be a valid ISO 8601 date string, instead was `"2022-7-10"`.',
        ...["before", "after", "on_or_before", "on_or_after", "is_empty", "is_not_empty"].map(
          (op) => `body.filter.date.${op} should be defined, instead was \`undefined\`.`,
        ),
        ...["past_week", "past_month", "past_year", "this_week", "next_week", "next_month", "next_year"].map(
          (op) => `body.filter.date.${op} should be defined, instead was \`undefined\`.`,
        ),
      ].join("\n"),
    );
    assert.equal(
      await refusal(query({ property: "Dialer ID", number: { equals: "42" } })),
      [
        "body failed validation. Fix one:",
        'body.filter.number.equals should be a number, instead was `"42"`.',
        ...[
          "does_not_equal",
          "greater_than",
          "less_than",
          "greater_than_or_equal_to",
          "less_than_or_equal_to",
          "is_empty",
          "is_not_empty",
        ].map((op) => `body.filter.number.${op} should be defined, instead was \`undefined\`.`),
      ].join("\n"),
    );
    assert.match(
      await refusal(query({ and: [{ property: "Last Call", date: { equals: {} } }] })),
      /^body failed validation\. Fix one:\nbody\.filter\.and\[0\]\.date\.equals should be a string, instead was `\{\}`\.\n/,
    );
  });

  test("a condition that does not fit the property's type", async () => {
    assert.equal(
      await refusal(query({ property: "Outcome", status: { equals: "DM" } })),
      "The property type in the database does not match the property type of the filter provided: database property select does not match filter status",
    );
    assert.equal(
      await refusal(query({ property: "Dialer ID", rich_text: { equals: "42" } })),
      "The property type in the database does not match the property type of the filter provided: database property number does not match filter rich_text",
    );
    assert.equal(
      await refusal(query({ property: "Stage", select: { equals: "Won" } })),
      "Could not find property with name or id: Stage",
    );
  });

  test("compound filters nest two levels deep at most", async () => {
    const leaf = { property: "Dialer ID", number: { equals: 1 } };
    const notion = client(version);
    const data_source_id = await dataSourceId(notion);
    await notion.dataSources.query({ data_source_id, filter: { and: [leaf, { or: [leaf, leaf] }] } });
    assert.equal(
      await refusal(query({ and: [{ or: [{ and: [leaf] }] }] })),
      'body failed validation: body.filter.and[0].or[0].and should be not present, instead was `[{"property":"Dialer ID","number":{"equals":1}}]`.',
    );
  });

  test("and beside or in one object", async () => {
    assert.equal(
      await refusal(query({ and: [], or: [] })),
      "body failed validation: body.filter.or should be not present, instead was `[]`.",
    );
  });

  test("two conditions in one property filter, two operators in one condition", async () => {
    assert.equal(
      await refusal(query({ property: "Dialer ID", number: { equals: 1 }, rich_text: { contains: "x" } })),
      'body failed validation: body.filter.rich_text should be not present, instead was `{"contains":"x"}`.',
    );
    const twoOps = await refusal(query({ property: "Dialer ID", number: { greater_than: 1, less_than: 9 } }));
    assert.match(twoOps, /^body failed validation\. Fix one:\n/);
    assert.ok(twoOps.includes("\nbody.filter.number.less_than should be not present, instead was `9`.\n"), twoOps);
    assert.ok(twoOps.includes("\nbody.filter.number.greater_than should be not present, instead was `1`.\n"), twoOps);
  });

  test("is_empty takes only true", async () => {
    const message = await refusal(query({ property: "Phone", phone_number: { is_empty: false } }));
    assert.ok(
      message.includes("\nbody.filter.phone_number.is_empty should be `true`, instead was `false`.\n"),
      message,
    );
  });
});

eachVersion("routes are gated by Notion-Version", (version) => {
  test("databases/{id}/query is gone with data sources; data_sources/* needs them", async () => {
    const gone = await raw(version, "POST", `/v1/databases/${DATABASE_ID}/query`, {});
    assert.equal(gone.status, 400);
    assert.equal(gone.body.code, "invalid_request_url");
    assert.equal(gone.body.message, "Invalid request URL.");
    const ds = await dataSourceId(client(version));
    for (const [method, route] of [
      ["POST", `/v1/data_sources/${ds}/query`],
      ["GET", `/v1/data_sources/${ds}`],
    ]) {
      const old = await raw("2022-06-28", method, route, method === "POST" ? {} : undefined);
      assert.equal(old.body.code, "invalid_request_url", `${method} ${route} under 2022-06-28`);
    }
    const oldQuery = await raw("2022-06-28", "POST", `/v1/databases/${DATABASE_ID}/query`, {});
    assert.equal(oldQuery.status, 200, "the old route under the old version");
  });
});

eachVersion("request bodies have Notion's schema", (version) => {
  test("unknown body keys are refused", async () => {
    const notion = client(version);
    const page = await notion.pages.create({
      parent: { data_source_id: await dataSourceId(notion) },
      properties: contact("Acme", 1),
    });
    const typo = await raw(version, "PATCH", `/v1/pages/${page.id}`, { propertys: {} });
    assert.equal(typo.status, 400);
    assert.equal(typo.body.message, "body failed validation: body.propertys should be not present, instead was `{}`.");
    // `archived` is gone with 2026-03-11 (the client still sends it).
    const archived = notion.pages.update({ page_id: page.id, archived: true });
    if (version >= "2026-03-11") {
      assert.equal(
        await refusal(archived),
        "body failed validation: body.archived should be not present, instead was `true`.",
      );
    } else {
      assert.equal((await archived).in_trash, true);
    }
  });

  test("values of the wrong JSON type are refused", async () => {
    const notion = client(version);
    const data_source_id = await dataSourceId(notion);
    assert.equal(
      await refusal(notion.dataSources.query({ data_source_id, page_size: "10" })),
      'body failed validation: body.page_size should be a number or `undefined`, instead was `"10"`.',
    );
    assert.equal(
      await refusal(notion.pages.create({ parent: { data_source_id }, properties: contact("A", 1), children: {} })),
      "body failed validation: body.children should be an array or `undefined`, instead was `{}`.",
    );
  });

  test("children nested deeper than two levels in one request", async () => {
    const notion = client(version);
    const page = await notion.pages.create({
      parent: { data_source_id: await dataSourceId(notion) },
      properties: contact("Acme", 1),
    });
    const nest = (levels) =>
      levels === 0 ? paragraph("leaf") : paragraph(`level ${levels}`, { children: [nest(levels - 1)] });
    await notion.blocks.children.append({ block_id: page.id, children: [nest(2)] });
    // Notion quotes at most 55 characters of a value, then "...".
    const message = await refusal(notion.blocks.children.append({ block_id: page.id, children: [nest(3)] }));
    assert.equal(
      message,
      'body failed validation: body.children[0].paragraph.children[0].paragraph.children[0].paragraph.children should be not present, instead was `[{"paragraph":{"rich_text":[{"text":{"content":"leaf"}}...`.',
    );
  });

  test("rich-text links must be http(s) URLs", async () => {
    const notion = client(version);
    const page = await notion.pages.create({
      parent: { data_source_id: await dataSourceId(notion) },
      properties: contact("Acme", 1),
    });
    const link = (url) => ({ text: { content: "site", link: { url } } });
    const message = await refusal(
      notion.blocks.children.append({
        block_id: page.id,
        children: [{ paragraph: { rich_text: [link("mailto:sales@example.com"), link("https://ok.example"), link("/relative")] } }],
      }),
    );
    assert.equal(message, "Content creation Failed. Fix the following: \nInvalid URL for link.\nInvalid URL for link.");
    await notion.pages.update({ page_id: page.id, properties: { Notes: { rich_text: [link("https://example.com/a")] } } });
  });

  test("colors are Notion's", async () => {
    const notion = client(version);
    const data_source_id = await dataSourceId(notion);
    const message = await refusal(
      notion.pages.create({
        parent: { data_source_id },
        properties: { ...contact("Acme", 1), Notes: { rich_text: [{ text: { content: "x" }, annotations: { color: "teal" } }] } },
      }),
    );
    assert.match(message, /^body failed validation: body\.properties\.Notes\.rich_text\[0\]\.annotations\.color should be `"default"`, `"gray"`, /);
    assert.match(message, /`"red_background"`, or `undefined`, instead was `"teal"`\.$/);
    const page = await notion.pages.create({ parent: { data_source_id }, properties: contact("Beta", 2) });
    assert.match(
      await refusal(notion.blocks.children.append({ block_id: page.id, children: [paragraph("x", { color: "teal" })] })),
      /body\.children\[0\]\.paragraph\.color should be `"default"`/,
    );
  });
});

eachVersion("what the sync may use, as Notion does it", (version) => {
  test("filter_properties on retrieve and query", async () => {
    const notion = client(version);
    const data_source_id = await dataSourceId(notion);
    const page = await notion.pages.create({ parent: { data_source_id }, properties: contact("Acme", 7) });
    const schema = await notion.dataSources.retrieve({ data_source_id });
    const dialerId = schema.properties["Dialer ID"].id;
    const got = await notion.pages.retrieve({ page_id: page.id, filter_properties: ["title", dialerId] });
    assert.deepEqual(Object.keys(got.properties), ["Name", "Dialer ID"]);
    assert.equal(got.properties["Dialer ID"].number, 7);
    const queried = await notion.dataSources.query({ data_source_id, filter_properties: ["Phone"] });
    assert.deepEqual(Object.keys(queried.results[0].properties), ["Phone"]);
  });

  test("in_trash on queries reads the trash", async () => {
    const notion = client(version);
    const data_source_id = await dataSourceId(notion);
    const kept = await notion.pages.create({ parent: { data_source_id }, properties: contact("Kept", 1) });
    const gone = await notion.pages.create({ parent: { data_source_id }, properties: contact("Gone", 2) });
    await notion.pages.update({ page_id: gone.id, in_trash: true });
    const live = await notion.dataSources.query({ data_source_id });
    assert.deepEqual(live.results.map((p) => p.id), [kept.id]);
    const trash = await notion.dataSources.query({ data_source_id, in_trash: true });
    assert.deepEqual(trash.results.map((p) => p.id), [gone.id]);
    assert.equal(trash.results[0].in_trash, true);
    assert.equal("archived" in trash.results[0], version < "2026-03-11");
  });

  test("position when appending blocks; after only before 2026-03-11", async () => {
    const notion = client(version);
    const page = await notion.pages.create({
      parent: { data_source_id: await dataSourceId(notion) },
      properties: contact("Acme", 1),
    });
    const [b] = (await notion.blocks.children.append({ block_id: page.id, children: [paragraph("b"), paragraph("d")] })).results;
    await notion.blocks.children.append({ block_id: page.id, children: [paragraph("a")], position: { type: "start" } });
    await notion.blocks.children.append({
      block_id: page.id,
      children: [paragraph("c")],
      position: { type: "after_block", after_block: { id: b.id } },
    });
    const texts = (await notion.blocks.children.list({ block_id: page.id })).results.map((x) => x.paragraph.rich_text[0].plain_text);
    assert.deepEqual(texts, ["a", "b", "c", "d"]);
    const after = notion.blocks.children.append({ block_id: page.id, children: [paragraph("e")], after: b.id });
    if (version >= "2026-03-11") {
      assert.match(await refusal(after), /^body failed validation: body\.after should be not present/);
    } else {
      await after;
    }
  });
});
