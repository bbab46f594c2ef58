/**
 * Runs tasks with the same key one after another and tasks with different keys
 * in parallel. The ingest handler keys on the customer, so a batch holding many
 * events of one customer does not make them race for the same profile item.
 */
export function serializeByKey(): <T>(key: string | undefined, task: () => Promise<T>) => Promise<T> {
  const tails = new Map<string, Promise<unknown>>();
  return (key, task) => {
    if (key === undefined) return task();
    const previous = tails.get(key) ?? Promise.resolve();
    const run = previous.then(task, task);
    const tail = run.catch(() => undefined);
    tails.set(key, tail);
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key);
    });
    return run;
  };
}
