/**
 * Waits for `work` at most `ms` (never rejects): a stop must not sit out a request's whole timeout
 * (Node-RED gives close handlers 15 s, SIGTERM should end the bridge within 5 s); what is still running
 * was already told to stop.
 */
export async function within(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    timer.unref();
  });
  try {
    await Promise.race([
      work.then(
        () => undefined,
        () => undefined,
      ),
      limit,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
