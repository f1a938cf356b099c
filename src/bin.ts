#!/usr/bin/env node
// The installed `secret-export-controller` command. On a Node older than 24 it stops with one line
// before loading anything: the HTTP client (undici 8) would crash at import with a stack trace.
const major = Number(process.versions.node.split(".")[0]);
if (major < 24) {
  console.error(`secret-export-controller needs Node.js 24 or later (this is Node.js ${process.version})`);
  process.exit(1);
}
await import("./cli.ts");
