#!/usr/bin/env node
// What Netlify's packager sees in a binary: @netlify/binary-info's verdict
// (the package zip-it-and-ship-it uses to take a prebuilt file as a Go or
// Rust function; Rust is told by the rust_eh_personality symbol).
//
//   node scripts/netlify/binary-info.mjs <file>...
//
// Prints one JSON line per file: {"file","runtime","arch","platform"}
// (names from the package's enums, e.g. "Rust", "Amd64", "Linux"), or
// {"file","error"} when it cannot tell.
import { readFileSync } from "node:fs";
import { Arch, Platform, Runtime, detect } from "@netlify/binary-info";

const files = process.argv.slice(2);
if (files.length === 0) {
  process.stderr.write("usage: binary-info.mjs <file>...\n");
  process.exit(2);
}
for (const file of files) {
  let line;
  try {
    const bytes = readFileSync(file);
    const info = detect(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    line = { file, runtime: Runtime[info.runtime] ?? null, arch: Arch[info.arch], platform: Platform[info.platform] };
  } catch (error) {
    line = { file, error: String(error?.message ?? error) };
  }
  process.stdout.write(JSON.stringify(line) + "\n");
}
