#!/usr/bin/env node
// Parses Cargo.toml files with the very TOML parser Netlify's tools load:
// the `toml` package as resolved from @netlify/zip-it-and-ship-it (the
// packager, runtimes/rust/builder.js) and from netlify-cli (the local
// server, runtimes/rust/index.js). Both are `toml` 3.0.0, a TOML 0.4 parser:
// dotted keys such as `version.workspace = true` fail there.
//
//   node scripts/netlify/parse-manifests.mjs <Cargo.toml>...
//
// Prints one JSON line per file and parser:
//   {"file","parser","version","ok":true,"package":"<package.name>"}
//   {"file","parser","version","ok":false,"error","line","column"}
// Exits 0 when every file parsed with every parser, 1 otherwise, 2 on bad usage.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const TOOLS = ["@netlify/zip-it-and-ship-it", "netlify-cli"];

const files = process.argv.slice(2);
if (files.length === 0) {
  process.stderr.write("usage: parse-manifests.mjs <Cargo.toml>...\n");
  process.exit(2);
}

const require = createRequire(import.meta.url);

/** The `toml` module and its version, as `tool` itself would import it. */
function parserOf(tool) {
  const toolRequire = createRequire(require.resolve(`${tool}/package.json`));
  const entry = toolRequire.resolve("toml");
  const pkg = JSON.parse(readFileSync(entry.replace(/index\.js$/, "package.json"), "utf8"));
  return { tool, version: pkg.version, toml: toolRequire("toml") };
}

function parse(parser, file) {
  const base = { file, parser: parser.tool, version: parser.version };
  try {
    const manifest = parser.toml.parse(readFileSync(file, "utf8"));
    return { ...base, ok: true, package: manifest?.package?.name ?? null };
  } catch (error) {
    return { ...base, ok: false, error: error.message, line: error.line, column: error.column };
  }
}

let failed = false;
for (const parser of TOOLS.map(parserOf)) {
  for (const file of files) {
    const result = parse(parser, file);
    failed ||= !result.ok;
    process.stdout.write(JSON.stringify(result) + "\n");
  }
}
process.exit(failed ? 1 : 0);
