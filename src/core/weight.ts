// The secretgen.carvel.dev/weight annotation, read as carvel reads it: Go's
// strconv.ParseFloat(value, 64), and 0 when that fails.

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const HEX = /^([+-]?)0[xX]([\da-fA-F]+\.?[\da-fA-F]*|\.[\da-fA-F]+)[pP]([+-]?\d+)$/;

/**
 * The weight an annotation value gives, 0 when absent or unparsable. Go also accepts "Inf", "NaN"
 * and values too large for a float64 (as ±Inf); those count as 0 too, so that weights always compare.
 */
export function parseWeight(annotation: string | undefined): number {
  if (annotation === undefined || !underscoresAllowed(annotation)) return 0;
  const text = annotation.replaceAll("_", "");
  const value = DECIMAL.test(text) ? Number(text) : parseHex(text);
  return Number.isFinite(value) ? value : 0;
}

/** A hexadecimal mantissa with a binary exponent (required), such as 0x1.8p3. */
function parseHex(text: string): number {
  const match = HEX.exec(text);
  if (match === null) return NaN;
  const [, sign, mantissa = "", exponent] = match;
  const [whole = "", fraction = ""] = mantissa.split(".");
  const value = Number(BigInt(`0x${whole}${fraction}`)) * 2 ** (Number(exponent) - 4 * fraction.length);
  return sign === "-" ? -value : value;
}

/** Go's rule: an underscore only between two digits, or between the 0x prefix and a digit. */
function underscoresAllowed(text: string): boolean {
  if (!text.includes("_")) return true;
  const unsigned = text.replace(/^[+-]/, "");
  const hex = /^0[xX]/.test(unsigned);
  const digit = hex ? /[\da-fA-F]/ : /\d/;
  let previous = hex ? "digit" : "start";
  for (const c of hex ? unsigned.slice(2) : unsigned) {
    const kind = digit.test(c) ? "digit" : c === "_" ? "underscore" : "other";
    if (kind === "underscore" && previous !== "digit") return false;
    if (kind !== "digit" && previous === "underscore") return false;
    previous = kind;
  }
  return previous !== "underscore";
}
