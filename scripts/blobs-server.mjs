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
import { parseArgs } from "node:util";
import { BlobsServer } from "@netlify/blobs/server";

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
