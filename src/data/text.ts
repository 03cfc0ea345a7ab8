// Text as token ids for the layers (SequenceDataset.fromArrays takes them as an Int32Array x, one-hot on the GPU):
// a character vocabulary, lower-cased, with id 0 for every character outside it.
import { InputError } from '../errors.js';

/** Letters, digits, space, newline and common punctuation: what e-mail bodies are mostly made of. */
export const BASIC_CHARS = " \nabcdefghijklmnopqrstuvwxyz0123456789.,:;!?'\"()-/$%&@*+=<>_#";

export class Vocabulary {
  private readonly ids = new Map<string, number>();

  /** Id 0 is "any other character"; the characters of `chars` get 1, 2, ... in order. */
  constructor(readonly chars: string) {
    [...chars].forEach((c, i) => {
      if (this.ids.has(c)) throw new InputError('chars', 'distinct characters', `'${c}' twice`);
      this.ids.set(c, i + 1);
    });
  }

  /** Ids in [0, size). */
  get size(): number {
    return this.ids.size + 1;
  }

  /** The first `max` characters of `text`, lower-cased, as ids into `into` at `offset`; returns how many. */
  encode(text: string, max: number, into: Int32Array, offset = 0): number {
    let n = 0;
    for (const c of text.toLowerCase()) {
      if (n >= max) break;
      into[offset + n++] = this.ids.get(c) ?? 0;
    }
    return n;
  }

  decode(ids: ArrayLike<number>): string {
    const chars = [...this.chars];
    return Array.from(ids, (id) => (id === 0 ? '\u00b7' : chars[id - 1] ?? '?')).join('');
  }
}

/** An e-mail's body: what follows the first blank line of its headers (all of it when there is none). */
export function emailBody(raw: string): string {
  const text = raw.replace(/\r\n/g, '\n');
  const at = text.indexOf('\n\n');
  return at < 0 ? text : text.slice(at + 2);
}
