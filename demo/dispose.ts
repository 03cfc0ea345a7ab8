// Both demo elements end their worker the same way on removal.

/**
 * Asks `worker` to free its GPU work ({ type: 'destroy' }), waits for its { type: 'disposed', liveBuffers } reply,
 * terminates it and fires `disposed` on `host` with the count; without a worker, `disposed` with 0 at once. A worker
 * stuck on the GPU must not live on forever: after 10 s, or on a worker error, it is terminated anyway (NaN buffers).
 */
export function disposeWorker(worker: Worker | undefined, host: EventTarget): void {
  if (!worker) {
    host.dispatchEvent(new CustomEvent('disposed', { detail: { liveBuffers: 0 } }));
    return;
  }
  let done = false;
  const finish = (liveBuffers: number) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    worker.terminate();
    host.dispatchEvent(new CustomEvent('disposed', { detail: { liveBuffers } }));
  };
  const timer = setTimeout(() => finish(NaN), 10_000);
  worker.onmessage = (event: MessageEvent<{ type: string; liveBuffers?: number }>) => {
    if (event.data.type === 'disposed') finish(event.data.liveBuffers ?? NaN);
  };
  worker.onerror = () => finish(NaN);
  worker.postMessage({ type: 'destroy' });
}
