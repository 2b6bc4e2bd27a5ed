/**
 * Stop means stop. Jupyter interrupts a tslab kernel with SIGINT; tslab then ends the cell ("Interrupted
 * asynchronously") but cannot stop the promise the cell started, and only hears the signal when Node's event loop
 * gets a turn — which a training loop on wasm (whose `tensor.data()` resolves at once) never gives it. So the kit's
 * long loops call `pausePoint()` at every step: it yields to the event loop every few tens of milliseconds and
 * throws an `InterruptedError` (carrying the partial result) once SIGINT was received while the loop ran.
 */

/** Thrown by a kit loop stopped by an interrupt; `partial` holds what was computed so far (history, rows). */
export class InterruptedError extends Error {
  constructor(
    message: string,
    readonly partial?: unknown,
  ) {
    super(message);
    this.name = 'InterruptedError';
  }
}

/** What the last interrupted loop left: its message and partial result (tslab ends the cell before the loop throws). */
export interface InterruptRecord {
  message: string;
  partial?: unknown;
}

interface Running {
  what: string;
  where: () => string;
}

const running: Running[] = [];
let requested = false;
/** Interrupts received by kit loops in this process (a progress bar born before one draws nothing after it). */
let interrupts = 0;
let last: InterruptRecord | null = null;
let lastYield = 0;
/** Yield to the event loop at least this often (ms) inside a loop. */
const YIELD_EVERY_MS = 25;

function onSigint(): void {
  const top = running[running.length - 1];
  if (!top) return;
  if (requested && process.listenerCount('SIGINT') === 1) {
    // a second Ctrl-C in a plain script (no kernel listening): leave at once, as Node would without us
    process.exit(130);
  }
  requested = true;
  interrupts++;
  // Name what the student called (the outermost loop), and where inside it the stop landed.
  const outer = running[0];
  const at = top === outer ? top.where() : `in ${top.what} ${top.where()}`;
  // Written now, while the interrupted cell is still the current one (tslab ends it right after this handler).
  process.stdout.write(`Interrupt received: ${outer.what} stops ${at}; its partial result is in kit.lastInterrupt().partial\n`);
}

/**
 * Runs `fn` as an interruptible loop named `what` (e.g. 'kit.train'); `where()` describes the position for the
 * message ("after epoch 3, step 12"). Nested loops share the outer loop's interrupt.
 */
export async function interruptible<T>(what: string, where: () => string, fn: () => Promise<T>): Promise<T> {
  if (running.length === 0) {
    requested = false;
    process.on('SIGINT', onSigint);
  }
  running.push({ what, where });
  try {
    return await fn();
  } finally {
    running.pop();
    if (running.length === 0) {
      process.removeListener('SIGINT', onSigint);
      requested = false;
    }
  }
}

/**
 * Call at every step of a long loop: gives the event loop a turn every few tens of milliseconds (so an interrupt
 * can arrive) and throws InterruptedError when one has; `partial()` supplies the result so far.
 */
export async function pausePoint(partial?: () => unknown): Promise<void> {
  const now = performance.now();
  if (now - lastYield >= YIELD_EVERY_MS) {
    lastYield = now;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  if (!requested || running.length === 0) return;
  requested = false;
  const top = running[running.length - 1];
  const message = `stopped by interrupt: ${top.what} ${top.where()}`;
  last = { message, partial: partial?.() };
  throw new InterruptedError(message, last.partial);
}

/** The last interrupted loop's message and partial result (null if none was interrupted in this process). */
export function lastInterrupt(): InterruptRecord | null {
  return last;
}

/** Simulates the signal for tests: as if SIGINT had arrived while a loop ran. */
export function requestInterrupt(): void {
  if (running.length > 0) {
    requested = true;
    interrupts++;
  }
}

/**
 * How many interrupts kit loops have received in this process. A progress bar remembers the count it was born with
 * and draws nothing once it changed: its loop was stopped, tslab has ended the cell, and a draw would land in the next.
 */
export function interruptCount(): number {
  return interrupts;
}
