// The plans a model keeps built (buffers, pipelines and bind groups for one mode, batch size and data set): made on
// first use, the oldest freed once there are more than `max`, a failed one forgotten so that the next call tries
// again. Data sets are named in keys by an id per object, so a key never holds a destroyed data set's name twice.

export class PlanCache<P extends { destroy(): void }> {
  private readonly plans = new Map<string, Promise<P>>();
  private readonly ids = new WeakMap<object, number>();
  private nextId = 1;

  constructor(private readonly max: number) {}

  /** The id naming `data` in keys: the same object, the same id. */
  id(data: object): number {
    let id = this.ids.get(data);
    if (id === undefined) this.ids.set(data, (id = this.nextId++));
    return id;
  }

  /** The plan under `key`, made by `create` when there is none. */
  get(key: string, create: () => Promise<P>): Promise<P> {
    let plan = this.plans.get(key);
    if (!plan) {
      if (this.plans.size >= this.max) {
        const [oldest, evicted] = this.plans.entries().next().value!;
        this.plans.delete(oldest);
        free(evicted);
      }
      plan = create();
      this.plans.set(key, plan);
      plan.catch(() => this.plans.delete(key));
    }
    return plan;
  }

  /** Every plan built so far (those that failed left out). */
  async all(): Promise<P[]> {
    const settled = await Promise.allSettled([...this.plans.values()]);
    return settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  }

  /** Frees the plans whose keys `match` (all of them without). */
  drop(match: (key: string) => boolean = () => true): void {
    for (const [key, plan] of [...this.plans]) {
      if (!match(key)) continue;
      this.plans.delete(key);
      free(plan);
    }
  }
}

function free<P extends { destroy(): void }>(plan: Promise<P>): void {
  plan.then((p) => p.destroy(), () => undefined);
}
