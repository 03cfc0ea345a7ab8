// Both demo elements' line to their training worker: start it, send it requests, ask it for one reply by id, and end
// it (disposeWorker, dispose.ts). The element keeps its own state and handles the worker's other replies.
import { disposeWorker } from './dispose.js';

export class WorkerLink<Request extends { type: string }, Reply extends { type: string }> {
  private worker: Worker | undefined;
  private readonly waiting = new Map<number, { resolve: (reply: Reply) => void; reject: (error: Error) => void }>();
  private nextId = 1;

  /** Whether a worker is running (started, and neither terminated nor disposed). */
  get connected(): boolean {
    return this.worker !== undefined;
  }

  /**
   * Starts the worker `create` makes: its replies go to `receive`; its crash (fatal) and an unreadable message (not
   * fatal) go to `fail`. Throws what the Worker constructor threw.
   */
  start(create: () => Worker, receive: (reply: Reply) => void, fail: (message: string, fatal: boolean) => void): void {
    const worker = create();
    worker.onmessage = (event: MessageEvent<Reply>) => receive(event.data);
    worker.onerror = (event) => {
      event.preventDefault();
      fail(`The training worker failed: ${event.message || 'unknown error'}`, true);
    };
    worker.onmessageerror = () => fail('A message from the training worker could not be read.', false);
    this.worker = worker;
  }

  send(message: Request): void {
    this.worker?.postMessage(message);
  }

  /** Sends `message` with a fresh id; settles with settle(id, ...). Without a worker, rejects with whyNot(). */
  ask<R extends Reply>(message: { type: string } & Record<string, unknown>, whyNot: () => string): Promise<R> {
    if (!this.worker) return Promise.reject(new Error(whyNot()));
    const id = this.nextId++;
    return new Promise<R>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (reply: Reply) => void, reject });
      this.send({ ...message, id } as unknown as Request);
    });
  }

  /** The reply to ask's request `id`: resolves it, or rejects it with `failed`'s message. */
  settle(id: number, reply: Reply, failed?: string): void {
    const waiter = this.waiting.get(id);
    this.waiting.delete(id);
    if (failed === undefined) waiter?.resolve(reply);
    else waiter?.reject(new Error(failed));
  }

  /** Rejects every ask still waiting with `message`. */
  rejectAll(message: string): void {
    for (const { reject } of this.waiting.values()) reject(new Error(message));
    this.waiting.clear();
  }

  /** Ends the worker at once (nothing on a GPU to free: no WebGPU). */
  terminate(): void {
    this.worker?.terminate();
    this.worker = undefined;
  }

  /** Rejects what waits with `message`, then has the worker free its GPU work and ends it, firing `disposed` on host. */
  dispose(message: string, host: EventTarget): void {
    this.rejectAll(message);
    const worker = this.worker;
    this.worker = undefined;
    disposeWorker(worker, host);
  }
}
