// Waiting in real time for what a test cannot be told about (a broker message, a page that redraws, a
// process that starts): ask again and again until the answer is there, or give up with a reason.

/**
 * Calls `probe` every `every` ms until it gives a value other than `undefined` or `false`, and resolves
 * with that value. After `ms` it fails with "timed out waiting for <what>"; `what` may be a function,
 * asked then, to say the last state seen.
 */
export async function until<T>(
  what: string | (() => string),
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  ms = 15_000,
  every = 50,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, every));
  }
}
