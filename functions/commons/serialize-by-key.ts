/**
 * Runs tasks with the same key one after another and tasks with different keys
 * in parallel. The campaigns handler keys on the customer, so two triggers of one
 * customer in a batch are decided one after the other (caps see the first send).
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
