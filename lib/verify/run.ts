/**
 * Runs `fn` over hours with at most `limit` in flight and returns the results in hour order. `onPrefix` gets the
 * results of the longest finished prefix whenever it grows: what a retry may skip (heartbeat details). On a
 * failure (of `fn` or of `onPrefix`) no new hour starts, the ones in flight settle, and the first error is thrown.
 */
export async function mapHoursInOrder<R>(
  hours: readonly string[],
  limit: number,
  fn: (hour: string) => Promise<R>,
  onPrefix?: (done: R[]) => void,
): Promise<R[]> {
  const results: R[] = new Array<R>(hours.length);
  const finished: boolean[] = new Array<boolean>(hours.length).fill(false);
  let next = 0;
  let prefix = 0;
  let failure: { err: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < hours.length && !failure) {
      const i = next++;
      try {
        results[i] = await fn(hours[i]!);
        finished[i] = true;
      } catch (err) {
        failure ??= { err };
        return;
      }
      const before = prefix;
      while (prefix < hours.length && finished[prefix]) prefix++;
      try {
        if (prefix > before) onPrefix?.(results.slice(0, prefix));
      } catch (err) {
        failure ??= { err };
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, hours.length)) }, worker));
  if (failure) throw failure.err;
  return results;
}
