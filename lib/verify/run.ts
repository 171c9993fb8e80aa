import pLimit from 'p-limit';

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
  const run = pLimit(Math.max(1, limit));
  let prefix = 0;
  let failure: { err: unknown } | undefined;
  const one = async (i: number): Promise<void> => {
    if (failure) return;
    try {
      results[i] = await fn(hours[i]!);
      finished[i] = true;
      const before = prefix;
      while (prefix < hours.length && finished[prefix]) prefix++;
      if (prefix > before) onPrefix?.(results.slice(0, prefix));
    } catch (err) {
      failure ??= { err };
    }
  };
  await Promise.all(hours.map((_, i) => run(() => one(i))));
  if (failure) throw failure.err;
  return results;
}
