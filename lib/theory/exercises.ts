/** Checking an exercise answer against a measured value without giving the value away. */

/**
 * Whether `guess` is within `tolerance` (absolute, or relative to the reference when `relative`) of `reference`:
 * right or wrong, with the tolerance only — never the direction, so the answer cannot be found by bisection.
 */
export function checkGuess(guess: number, reference: number, tolerance: number, relative = false): string {
  if (!Number.isFinite(reference)) throw new Error(`checkGuess: the reference value is ${reference}; run the section the exercise refers to first`);
  if (!Number.isFinite(guess)) return 'No answer yet: replace NaN with your prediction and run this cell again.';
  const band = relative ? `${Math.round(tolerance * 100)}%` : `±${tolerance}`;
  const ok = Math.abs(guess - reference) <= (relative ? tolerance * Math.abs(reference) : tolerance);
  return ok ? `✓ Right: ${guess} is within ${band} of the measured value.` : `✗ Not within ${band} of the measured value. Re-read the section and try again.`;
}
