#!/usr/bin/env node
// Runs the official local Netlify Blobs server (the one `netlify dev` uses) as
// a stand-in for production Blobs in tests and demos.
//
//   node scripts/blobs-server.mjs --port 0 --dir <path> --token <token>
//
// Prints exactly one JSON line to stdout once listening:
//   {"port":N,"url":"http://127.0.0.1:N","token":"..."}
// and stops cleanly on SIGTERM or SIGINT. Everything else goes to stderr, so
// the caller can treat stdout's first line as the readiness signal.
import { access } from "node:fs/promises";
import { parseArgs } from "node:util";
import { BlobsServer } from "@netlify/blobs/server";

// The official server lists a store by walking its directory while writes
// rename temporary files in it: a walk that meets a file renamed away stops
// and answers 200 with what it had so far (a truncated list, as if contacts
// had been deleted), and a temporary file in the middle of a write is listed
// as a blob. Netlify's own listing is consistent, so the stand-in is made to
// be: the walk is repeated until it completes, and temporary files (names
// starting with a dot) are left out.
// Its conditional writes check the etag, then write in several awaited
// steps, so a second write to the same key can land in between and be
// overwritten by one whose condition no longer holds. Netlify's conditional
// writes are atomic: writes to one key are made to go one at a time here.
//
// Netlify also sends a blob's etag with its content on GET (the official
// server sends none): reads here go in the same one-at-a-time order as the
// writes to their key, and carry the etag of exactly the content they return.
const busy = new Map();
function oneAtATime(req, work) {
  const key = new URL(req.url ?? "", "http://local").pathname;
  const before = busy.get(key) ?? Promise.resolve();
  const mine = before.then(work);
  const settled = mine.then(() => {}, () => {});
  busy.set(key, settled);
  settled.then(() => {
    if (busy.get(key) === settled) busy.delete(key);
  });
  return mine;
}
const put = BlobsServer.prototype.put;
BlobsServer.prototype.put = function atomicPut(req) {
  return oneAtATime(req, () => put.call(this, req));
};
const get = BlobsServer.prototype.get;
BlobsServer.prototype.get = function getWithEtag(req) {
  return oneAtATime(req, async () => {
    const response = await get.call(this, req);
    const { dataPath, key } = this.getLocalPaths(new URL(req.url ?? "", this.address));
    if (response.status !== 200 || !key || !dataPath) {
      return response;
    }
    const etag = await BlobsServer.generateETag(dataPath);
    if (!etag) return response;
    const headers = new Headers(response.headers);
    headers.set("etag", etag);
    return new Response(response.body, { status: response.status, headers });
  });
};

BlobsServer.prototype.listBlobs = async function listBlobs({ dataPath, rootPath, url }) {
  const directories = url.searchParams.get("directories") === "true";
  const prefix = url.searchParams.get("prefix") ?? "";
  for (let attempt = 0; attempt < 50; attempt++) {
    const result = { blobs: [], directories: [] };
    try {
      await BlobsServer.walk({ directories, path: dataPath, prefix, rootPath, result });
    } catch (error) {
      if (error?.code !== "ENOENT") return new Response(null, { status: 500 });
      const storeExists = await access(dataPath).then(() => true, () => false);
      if (!storeExists) return Response.json(result);
      continue;
    }
    result.blobs = result.blobs.filter((b) => !b.key.split("/").some((part) => part.startsWith(".")));
    return Response.json(result);
  }
  return new Response(null, { status: 503 });
};

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    dir: { type: "string" },
    token: { type: "string" },
    debug: { type: "boolean", default: false },
  },
});

if (!values.dir || !values.token) {
  process.stderr.write("usage: blobs-server.mjs --port <n|0> --dir <path> --token <token>\n");
  process.exit(2);
}

const port = Number.parseInt(values.port, 10);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`blobs-server: invalid --port ${values.port}\n`);
  process.exit(2);
}

const server = new BlobsServer({
  directory: values.dir,
  port,
  token: values.token,
  debug: values.debug,
  // Keep stdout for the single readiness line.
  logger: (...args) => process.stderr.write(args.join(" ") + "\n"),
});

const started = await server.start();
process.stdout.write(
  JSON.stringify({ port: started.port, url: `http://127.0.0.1:${started.port}`, token: values.token }) + "\n",
);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  // server.stop() can wait on keep-alive connections a client still holds.
  // Every write is on disk before its response is sent, so a short grace
  // period loses nothing and keeps test teardown fast.
  const grace = new Promise((resolve) => setTimeout(resolve, 300));
  await Promise.race([server.stop().catch(() => {}), grace]);
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
