// What a shape asks of a device: its storage buffers and its dispatches, listed by the code that creates them
// (BatchPlan, RnnSchedule) and checked against device.limits before anything is allocated or dispatched. A size over
// a limit is otherwise not an error in WebGPU until a bind group or a dispatch is validated, and then only a
// console line: the work never runs and reads back zeros (a loss of 0 / 0 = NaN, probabilities of 0).
import { InputError } from '../errors.js';

/** A buffer bound as storage (whole: its size counts against the binding limit), or one dispatch. */
export type Demand =
  | { what: string; bytes: number }
  | { what: string; workgroups: [number, number, number] };

/** A storage buffer of `elements` 4-byte values; `what` names it with its shape, e.g. 'hs [steps + 1, batch, units]'. */
export function storage(what: string, elements: number): Demand {
  return { what, bytes: elements * 4 };
}

export function dispatch(what: string, workgroups: [number, number, number]): Demand {
  return { what, workgroups };
}

/** The first demand over `device`'s limits, in words ("hs [..] needs N bytes; maxStorageBufferBindingSize is M"). */
export function overLimit(device: GPUDevice, demands: Demand[]): string | undefined {
  const l = device.limits;
  const [bindingName, binding] = l.maxBufferSize < l.maxStorageBufferBindingSize
    ? ['maxBufferSize', l.maxBufferSize] : ['maxStorageBufferBindingSize', l.maxStorageBufferBindingSize];
  for (const d of demands) {
    if ('bytes' in d) {
      if (d.bytes > binding) return `${d.what} needs ${d.bytes} bytes; the device's ${bindingName} is ${binding}`;
    } else {
      const most = Math.max(...d.workgroups);
      if (most > l.maxComputeWorkgroupsPerDimension) {
        return `${d.what} dispatches ${d.workgroups.join(' x ')} workgroups; the device's maxComputeWorkgroupsPerDimension is ${l.maxComputeWorkgroupsPerDimension}`;
      }
    }
  }
  return undefined;
}

/** Throws an InputError naming `field`, the limit and `value` when one of `demands` passes `device`'s limits. */
export function checkDemands(device: GPUDevice, field: string, value: number | string, demands: Demand[]): void {
  const over = overLimit(device, demands);
  if (over) throw new InputError(field, `a size whose buffers and dispatches fit this device (${over})`, String(value));
}
