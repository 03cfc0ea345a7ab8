// Sampling text from a character-level model, one character at a time: pure functions, tested in Node.

/**
 * A draw from softmax(logits / temperature), given the model's probabilities p = softmax(logits):
 * softmax(log p / temperature) is the same distribution. `u` is uniform in [0, 1). Temperature 0 picks the most
 * likely id; below 1 sharpens, above 1 flattens.
 */
export function pickId(probs: ArrayLike<number>, temperature: number, u: number): number {
  const n = probs.length;
  if (temperature === 0) {
    let best = 0;
    for (let i = 1; i < n; i++) if (probs[i]! > probs[best]!) best = i;
    return best;
  }
  const logs = Array.from(probs, (p) => Math.log(Math.max(p, 1e-30)) / temperature);
  const max = Math.max(...logs);
  const weights = logs.map((l) => Math.exp(l - max));
  let rest = u * weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < n; i++) {
    rest -= weights[i]!;
    if (rest < 0) return i;
  }
  return n - 1;
}

/**
 * The model's input for the next character: the last `steps` ids of `context` at the start of x [1, steps] (the rest
 * 0, past the length) and that length. A model trained on windows of `steps` characters reads at most that many.
 */
export function contextWindow(context: ArrayLike<number>, steps: number): { x: Int32Array; length: number } {
  const length = Math.min(steps, context.length);
  const x = new Int32Array(steps);
  for (let i = 0; i < length; i++) x[i] = context[context.length - length + i]!;
  return { x, length };
}
