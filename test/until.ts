// Waiting in real time for what a test cannot be told about (a broker message, a page that redraws, a
// process that starts): ask again and again until the answer is there, or give up.

type Probe<T> = () => Promise<T | undefined | false> | T | undefined | false;

/**
 * Calls `probe` every `every` ms until it gives a value other than `undefined` or `false`, and resolves
 * with that value; after `ms` resolves with `undefined` instead (the caller's own checks then say what
 * is missing).
 */
export async function poll<T>(probe: Probe<T>, ms: number, every = 50): Promise<T | undefined> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) return undefined;
    await new Promise((resolve) => setTimeout(resolve, every));
  }
}

/**
 * Like `poll`, but after `ms` it fails with "timed out waiting for <what>"; `what` may be a function,
 * asked then, to say the last state seen.
 */
export async function until<T>(
  what: string | (() => string),
  probe: Probe<T>,
  ms = 15_000,
  every = 50,
): Promise<T> {
  const value = await poll(probe, ms, every);
  if (value === undefined)
    throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
  return value;
}
