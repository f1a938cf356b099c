import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseWeight } from "../../src/core/weight.ts";

describe("parseWeight", () => {
  test("reads what Go's strconv.ParseFloat accepts", () => {
    const rows: [annotation: string, weight: number][] = [
      ["0", 0],
      ["1", 1],
      ["-1", -1],
      ["+2", 2],
      ["0.5", 0.5],
      [".5", 0.5],
      ["5.", 5],
      ["-.5", -0.5],
      ["1e1", 10],
      ["1E+1", 10],
      ["2.5e-1", 0.25],
      ["007", 7],
      ["1_000", 1000],
      ["1_23.50_0_0e+1_2", 1.235e14],
      ["0x1p-2", 0.25],
      ["0X1.8P1", 3],
      ["-0x10p0", -16],
      ["0x.8p1", 1],
      ["0x_1_2.3_4_5p+1_2", 74565],
      ["1e-400", 0],
    ];
    for (const [annotation, weight] of rows) assert.equal(parseWeight(annotation), weight, annotation);
  });

  test("an absent or unparsable annotation weighs 0", () => {
    const rows: (string | undefined)[] = [
      undefined,
      "",
      " 2",
      "2 ",
      "abc",
      "1.2.3",
      "--1",
      "1e",
      "1e+",
      "e5",
      ".",
      "0x1",
      "0x",
      "0b1",
      "1,5",
      "_1",
      "1_",
      "1__0",
      "1_.5",
      "1._5",
      "1e_1",
      "+_1",
      "0x__1p0",
    ];
    for (const annotation of rows) assert.equal(parseWeight(annotation), 0, String(annotation));
  });

  test("values Go reads as infinite or not a number weigh 0, so that weights always compare", () => {
    for (const annotation of ["Inf", "-inf", "+Infinity", "NaN", "1e400", "-1e400", "0x1p99999"]) {
      assert.equal(parseWeight(annotation), 0, annotation);
    }
  });
});
