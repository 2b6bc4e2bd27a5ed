/**
 * Number formatting that matches Python's `format(x, '.Nf')` digit for digit, so that reports print
 * exactly as sklearn prints them. JavaScript's `toFixed` rounds exact ties away from zero (0.625 → "0.63");
 * Python rounds the exact binary value half to even (0.625 → "0.62").
 */

/** The exact value of a finite double as mantissa · 2^exponent (mantissa a non-negative BigInt). */
function exactBinary(x: number): { mantissa: bigint; exponent: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  if (biased === 0) return { mantissa: fraction, exponent: -1074 };
  return { mantissa: fraction | (1n << 52n), exponent: biased - 1075 };
}

/** `x` with `digits` decimals, rounded like Python's `'{:.{digits}f}'.format(x)` (half to even on the exact value). */
export function formatFixed(x: number, digits: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
  if (!Number.isInteger(digits) || digits < 0) throw new Error(`formatFixed: digits must be a non-negative integer, got ${digits}`);
  const negative = x < 0 || Object.is(x, -0);
  const { mantissa, exponent } = exactBinary(x);
  const scale = 10n ** BigInt(digits);
  let scaled: bigint;
  if (exponent >= 0) {
    scaled = (mantissa << BigInt(exponent)) * scale;
  } else {
    const denominator = 1n << BigInt(-exponent);
    const numerator = mantissa * scale;
    scaled = numerator / denominator;
    const twiceRemainder = 2n * (numerator % denominator);
    if (twiceRemainder > denominator || (twiceRemainder === denominator && scaled % 2n === 1n)) scaled += 1n;
  }
  let text = scaled.toString().padStart(digits + 1, '0');
  if (digits > 0) text = `${text.slice(0, -digits)}.${text.slice(-digits)}`;
  return negative ? `-${text}` : text;
}

/** Right-align `text` in a field of `width` characters (Python's `{:>width}`). */
export function padLeft(text: string, width: number): string {
  return text.length >= width ? text : ' '.repeat(width - text.length) + text;
}
