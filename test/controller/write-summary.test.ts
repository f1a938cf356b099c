import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { test } from "node:test";
import { pino } from "pino";
import { writeSummary } from "../../src/controller/write-summary.ts";

function capture() {
  const lines: { msg: string; written: Record<string, number> }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as (typeof lines)[number]);
      done();
    },
  });
  return { log: pino({ level: "info" }, stream), lines };
}

test("the write summary logs one line with the count per kind, then starts again from zero", async () => {
  const { log, lines } = capture();
  const summary = writeSummary(log);
  for (const kind of ["placeholder", "placeholder", "import"]) summary.count(kind);
  summary.flush();
  summary.count("placeholder");
  summary.flush();
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(
    lines.map((l) => [l.msg, l.written]),
    [
      ["objects written", { placeholder: 2, import: 1 }],
      ["objects written", { placeholder: 1 }],
    ],
  );
});

test("the write summary logs nothing when nothing was written", async () => {
  const { log, lines } = capture();
  writeSummary(log).flush();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(lines.length, 0);
});
