#!/usr/bin/env node
// Packages prebuilt Rust function binaries with Netlify's own packager,
// @netlify/zip-it-and-ship-it, configured from the repo's netlify.toml as
// Netlify's build reads it (@netlify/config). Called by scripts/package.
//
//   node scripts/netlify/package-functions.mjs --prebuilt <dir> --out <dir>
//
// <dir> of --prebuilt holds one Linux x86-64 Rust binary per function, named
// after the function. zip-it-and-ship-it, with source builds off, packages
// every file in a functions directory that @netlify/binary-info recognises
// as a Rust binary (runtimes/rust/index.js: findFunctionInPath ->
// detectBinaryRuntime -> processBinary) into `<name>.zip` holding `bootstrap`
// and `netlify-toolchain`, and writes manifest.json with each function's
// runtime and netlify.toml settings (`schedule`). With source builds on
// (NETLIFY_EXPERIMENTAL_BUILD_RUST_SOURCE, as on Netlify) it would instead
// run `rustup target add x86_64-unknown-linux-musl` and a musl build of each
// source directory, which cannot be installed everywhere.
//
// Before packaging, it lists the repo's functions directory the way Netlify's
// source build sees it and stops unless every function there is a Rust
// function with a prebuilt binary, and no binary is left over.
//
// Prints one JSON line: {"functionsDirectory","sourceFunctions":[{name,runtime}],
// "packaged":[{name,runtime,path,schedule}],"manifest"}.
import { readdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { resolveConfig } from "@netlify/config";
import { listFunctions, zipFunctions } from "@netlify/zip-it-and-ship-it";

const fail = (message) => {
  process.stderr.write(`package-functions: ${message}\n`);
  process.exit(1);
};

const { values } = parseArgs({
  options: { prebuilt: { type: "string" }, out: { type: "string" } },
});
if (!values.prebuilt || !values.out) {
  process.stderr.write("usage: package-functions.mjs --prebuilt <dir> --out <dir>\n");
  process.exit(2);
}
const prebuilt = resolve(values.prebuilt);
const out = resolve(values.out);
const root = process.cwd();

// netlify.toml as Netlify's build resolves it (offline: no site settings).
const { config } = await resolveConfig({ cwd: root, repositoryRoot: root, offline: true, context: "production" });
const functionsDirectory = config.functionsDirectory;
if (!functionsDirectory) fail("netlify.toml sets no functions directory ([build] functions)");

// The functions Netlify's Rust source build would find (no build happens here).
const sources = await listFunctions([functionsDirectory], {
  config: config.functions,
  featureFlags: { buildRustSource: true },
});
const sourceFunctions = sources.map(({ name, runtime }) => ({ name, runtime })).sort(byName);
const notRust = sourceFunctions.filter((f) => f.runtime !== "rs");
if (notRust.length > 0) {
  fail(`not Rust functions in ${functionsDirectory}: ${notRust.map((f) => `${f.name} (${f.runtime})`).join(", ")}`);
}

const binaries = (await readdir(prebuilt)).sort();
const names = sourceFunctions.map((f) => f.name);
const missing = names.filter((name) => !binaries.includes(name));
const extra = binaries.filter((name) => !names.includes(name));
if (missing.length > 0) fail(`no prebuilt binary in ${prebuilt} for: ${missing.join(", ")}`);
if (extra.length > 0) fail(`files in ${prebuilt} that are no function in ${functionsDirectory}: ${extra.join(", ")}`);

const manifest = join(out, "manifest.json");
const results = await zipFunctions([prebuilt], out, {
  basePath: root,
  repositoryRoot: root,
  config: config.functions,
  featureFlags: { buildRustSource: false },
  manifest,
});
const packaged = results
  .map(({ name, runtime, path, schedule }) => ({ name, runtime, path, schedule: schedule ?? null }))
  .sort(byName);
const unrecognised = names.filter((name) => !packaged.some((p) => p.name === name));
if (unrecognised.length > 0) {
  // netlify/cli#6168: such a binary is silently not deployed.
  fail(
    `zip-it-and-ship-it did not take these binaries as Rust functions: ${unrecognised.join(", ")}; ` +
      "a stripped binary loses rust_eh_personality (keep symbols: strip = \"debuginfo\" or none)",
  );
}

process.stdout.write(JSON.stringify({ functionsDirectory, sourceFunctions, packaged, manifest }) + "\n");

function byName(a, b) {
  return a.name.localeCompare(b.name);
}
