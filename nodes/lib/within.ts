/**
 * Waits for `work` at most `ms`: a close handler must not sit out a request's whole timeout (Node-RED
 * gives close handlers 15 s, then logs an error); what is still running is already told to stop.
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
