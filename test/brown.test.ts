// src/data/brown.ts: the Brown corpus's tags stripped into text, and the character vocabulary (pure functions, no GPU).
import { describe, expect, it } from 'vitest';
import { CharVocabulary, stripBrownTags, UNKNOWN_CHAR } from '../src/data/brown.js';
import { InputError } from '../src/errors.js';

function thrown(work: () => unknown): InputError {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }
  throw new Error('expected an InputError');
}

describe('stripBrownTags', () => {
  it('keeps the words, one sentence a line, and detokenises punctuation and quotes', () => {
    const raw = '\n\n\tThe/at Fulton/np-tl County/nn-tl said/vbd ``/`` no/at evidence/nn \'\'/\'\' ,/, that/cs 1-1/2/cd (/( or/cc so/rb )/) ./.\n\n\n' +
      '\tIs/bez it/pps ?/. Yes/rb ;/. `/` fine/jj \'/\' :/: --/-- ok/rb !/.\r\n';
    expect(stripBrownTags(raw)).toBe('The Fulton County said "no evidence", that 1-1/2 (or so).\nIs it? Yes; \'fine\': -- ok!\n');
  });

  it('gives nothing for blank text', () => {
    expect(stripBrownTags('\n \t\n')).toBe('');
  });

  it('names the file, the line and the token that is not word/tag', () => {
    expect(thrown(() => stripBrownTags('\tA/at b/nn\n\tno-tag here/rb\n', 'ca01')).message).toBe('ca01 line 2: expected tokens word/tag (the tagged Brown corpus), got "no-tag"');
    expect(thrown(() => stripBrownTags('x/', 'f')).field).toBe('f line 1');
    expect(thrown(() => stripBrownTags('/nn', 'f')).field).toBe('f line 1');
  });
});

describe('CharVocabulary', () => {
  it('takes the most frequent characters, the rest one unknown id', () => {
    const v = CharVocabulary.fromText('aaabbc d', 4); // a:3, b:2, then ' ', c, d once each: ' ' first by code point
    expect(v.chars).toBe('ab ');
    expect(v.size).toBe(4);
    expect([...v.encode('abcd ')]).toEqual([1, 2, 0, 0, 3]);
    expect(v.decode([1, 2, 0, 3])).toBe(`ab${UNKNOWN_CHAR} `);
    expect(v.idOf('z')).toBe(0);
  });

  it('round-trips through JSON, and names what is wrong', () => {
    const v = CharVocabulary.fromText('Hello, world!\n');
    const back = CharVocabulary.fromJSON(JSON.parse(JSON.stringify(v)));
    expect(back.chars).toBe(v.chars);
    expect(back.decode(back.encode('Hello, world!\n'))).toBe('Hello, world!\n');
    expect(thrown(() => CharVocabulary.fromJSON({ chars: 3 }, 'ckpt vocabulary')).message).toBe('ckpt vocabulary: expected a character vocabulary { chars: string }, got chars: number');
    expect(thrown(() => CharVocabulary.fromJSON(null)).field).toBe('vocabulary');
    expect(thrown(() => new CharVocabulary('aba')).message).toBe("chars: expected distinct characters, got 'a' twice");
    expect(thrown(() => CharVocabulary.fromText('abc', 1)).field).toBe('maxSize');
  });
});
