// The one rule for concurrent calls on something whose GPU buffers they share (a model, a functional-API plan): they
// run one after another, in the order they were made. A call does not fail because another is in flight.

export class Serial {
  private tail: Promise<unknown> = Promise.resolve();

  /** Runs `work` once every call made before it has settled; its result or error is this call's. */
  run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work, work);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
