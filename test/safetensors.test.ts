// The safetensors reader and writer: round trips, the exact bytes of a hand-built file, and one test per rejected
// input.
import { describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors, type Tensor } from '../src/io/safetensors.js';
import { InputError } from '../src/errors.js';

/** A safetensors file from a header (object, or raw text) and data-section bytes, with no padding. */
function file(header: unknown, data: number[] = [], headerLengthOverride?: number): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLengthOverride ?? json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const headerLength = (bytes: Uint8Array) => Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));

describe('round trip', () => {
  const tensors: Record<string, Tensor> = {
    'layer.0.weight': { dtype: 'F32', shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 1e-7, -0, Infinity]) },
    steps: { dtype: 'I32', shape: [], data: Int32Array.from([-123456]) },
    bias: { dtype: 'F64', shape: [3], data: Float64Array.from([Math.PI, -1e300, 5e-324]) },
    mask: { dtype: 'U8', shape: [1, 5], data: Uint8Array.from([0, 1, 255, 7, 9]) },
    empty: { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
  };
  const metadata = { format: 'webgpu-rnn', epoch: '3', note: 'ünïcode ✓' };

  it('returns equal tensors and metadata', () => {
    const bytes = encodeSafetensors(tensors, metadata);
    const got = decodeSafetensors(bytes);
    expect(got.metadata).toEqual(metadata);
    expect(Object.keys(got.tensors).sort()).toEqual(Object.keys(tensors).sort());
    for (const [name, want] of Object.entries(tensors)) {
      const t = got.tensors[name]!;
      expect(t.dtype, name).toBe(want.dtype);
      expect(t.shape, name).toEqual(want.shape);
      expect(t.data.constructor, name).toBe(want.data.constructor);
      expect(Array.from(t.data), name).toEqual(Array.from(want.data));
    }
    expect(Object.is(got.tensors['layer.0.weight']!.data[4], -0)).toBe(true);
  });

  it('pads the header with spaces to a multiple of 8', () => {
    const metas: (Record<string, string> | undefined)[] = [undefined, {}, { a: 'b' }, { a: 'bc' }, { a: 'bcd' }, { a: 'bcdefghij' }];
    for (const meta of metas) {
      const bytes = encodeSafetensors(tensors, meta);
      const n = headerLength(bytes);
      expect(n % 8).toBe(0);
      const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
      expect(text).toMatch(/^\{.*\} *$/);
      expect(text.trimEnd().length).toBeGreaterThan(n - 8); // at most 7 spaces of padding
    }
  });

  it('writes no __metadata__ entry when none is given', () => {
    const bytes = encodeSafetensors({ x: { dtype: 'U8', shape: [1], data: Uint8Array.from([1]) } });
    expect(new TextDecoder().decode(bytes)).not.toContain('__metadata__');
    expect(decodeSafetensors(bytes).metadata).toEqual({});
  });

  it('copies data out of typed arrays that are views at an offset', () => {
    const backing = new Float32Array([9, 9, 1, 2, 3, 9]);
    const bytes = encodeSafetensors({ x: { dtype: 'F32', shape: [3], data: backing.subarray(2, 5) } });
    expect(Array.from(decodeSafetensors(bytes).tensors.x!.data)).toEqual([1, 2, 3]);
  });

  it('reads a file that sits at an odd offset inside a larger buffer', () => {
    const bytes = encodeSafetensors(tensors, metadata);
    const big = new Uint8Array(bytes.length + 3);
    big.set(bytes, 1);
    const got = decodeSafetensors(big.subarray(1, 1 + bytes.length));
    expect(Array.from(got.tensors.bias!.data)).toEqual(Array.from(tensors.bias!.data));
  });
});

describe('byte layout', () => {
  // One F32 tensor "w" = [1, -2], metadata { format: "pt" }, built by hand.
  const header = '{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
  const expected = Uint8Array.from([
    88, 0, 0, 0, 0, 0, 0, 0, // header length: 85 characters + 3 spaces = 88, little-endian u64
    ...Array.from(header, (c) => c.charCodeAt(0)), 0x20, 0x20, 0x20,
    0x00, 0x00, 0x80, 0x3f, // 1.0f little-endian
    0x00, 0x00, 0x00, 0xc0, // -2.0f little-endian
  ]);

  it('encodes exactly the hand-built bytes', () => {
    expect(header.length).toBe(85);
    const got = encodeSafetensors({ w: { dtype: 'F32', shape: [2], data: Float32Array.from([1, -2]) } }, { format: 'pt' });
    expect(Array.from(got)).toEqual(Array.from(expected));
  });

  it('decodes the hand-built bytes', () => {
    const got = decodeSafetensors(expected);
    expect(got.metadata).toEqual({ format: 'pt' });
    expect(got.tensors.w!.dtype).toBe('F32');
    expect(got.tensors.w!.shape).toEqual([2]);
    expect(Array.from(got.tensors.w!.data)).toEqual([1, -2]);
  });

  it('decodes an unpadded header (data at an unaligned offset) with entries out of offset order', () => {
    // Header of odd length, so the data starts at an odd byte; "bb" is listed first but stored second.
    const bytes = file(
      { bb: { dtype: 'I32', shape: [1], data_offsets: [8, 12] }, a: { dtype: 'F64', shape: [1], data_offsets: [0, 8] } },
      [0, 0, 0, 0, 0, 0, 0xf0, 0x3f, /* 1.0 as f64 */ 0xff, 0xff, 0xff, 0xff /* -1 as i32 */],
    );
    expect((8 + headerLength(bytes)) % 4).not.toBe(0);
    const got = decodeSafetensors(bytes);
    expect(got.tensors.a!.data).toBeInstanceOf(Float64Array);
    expect(Array.from(got.tensors.a!.data)).toEqual([1]);
    expect(Array.from(got.tensors.bb!.data)).toEqual([-1]);
    expect(got.tensors.a!.data.byteOffset).toBe(0);
    expect(got.tensors.a!.data.buffer).not.toBe(bytes.buffer);
  });
});

describe('decode rejects', () => {
  const ok = { w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  const eight = [0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0];
  const rejects = (bytes: Uint8Array, message: RegExp) => {
    expect(() => decodeSafetensors(bytes, 'model.safetensors')).toThrow(InputError);
    expect(() => decodeSafetensors(bytes, 'model.safetensors')).toThrow(message);
  };

  it('a file shorter than 8 bytes', () => {
    rejects(new Uint8Array(5), /^model\.safetensors: expected .*at least 8 bytes.*got 5 bytes$/);
  });

  it('defaults the name to "checkpoint"', () => {
    expect(() => decodeSafetensors(new Uint8Array(3))).toThrow(/^checkpoint: /);
  });

  it('a header length beyond the file', () => {
    rejects(file(ok, eight, 1000), /^model\.safetensors: .*header length of at most \d+ bytes.*got 1000 bytes: the header runs past the end/);
    const huge = new Uint8Array(16).fill(0xff); // 2^64 - 1
    rejects(huge, /got 18446744073709551615 bytes: the header runs past the end/);
  });

  it('a header that is not valid JSON', () => {
    rejects(file('{"w": {"dtype": "F32",', eight), /^model\.safetensors: expected a header of valid JSON, got .*\(the header begins \{"w": \{"dtype": "F32",\)$/);
  });

  it('a header that is not UTF-8', () => {
    const bytes = file('{"w":1}');
    bytes[9] = 0xff;
    rejects(bytes, /^model\.safetensors: expected a UTF-8 JSON header, got bytes that are not valid UTF-8$/);
  });

  it('a header that is not a JSON object', () => {
    rejects(file('[1, 2]'), /expected a JSON object as the header, got an array/);
    rejects(file('null'), /expected a JSON object as the header, got null/);
  });

  it('a tensor entry missing dtype, shape or data_offsets', () => {
    rejects(file({ w: { shape: [2], data_offsets: [0, 8] } }, eight), /^model\.safetensors: expected tensor "w" to have a dtype .*got no dtype$/);
    rejects(file({ w: { dtype: 'F32', data_offsets: [0, 8] } }, eight), /expected tensor "w" to have a shape, got no shape$/);
    rejects(file({ w: { dtype: 'F32', shape: [2] } }, eight), /expected tensor "w" to have data_offsets, got no data_offsets$/);
    rejects(file({ w: 5 }, eight), /expected tensor "w" to be an object with dtype, shape and data_offsets, got 5$/);
  });

  it('an unsupported dtype', () => {
    rejects(file({ w: { dtype: 'BF16', shape: [4], data_offsets: [0, 8] } }, eight),
      /^model\.safetensors: expected tensor "w" to have a supported dtype \(one of F32, I32, F64, U8\), got dtype "BF16"$/);
  });

  it('a malformed shape or data_offsets', () => {
    rejects(file({ w: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, eight), /shape of non-negative integers, got shape \[-2\]/);
    rejects(file({ w: { dtype: 'F32', shape: [2], data_offsets: [0] } }, eight), /data_offsets \[begin, end\].*got data_offsets \[0\]/);
    rejects(file({ w: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, eight), /0 <= begin <= end, got data_offsets \[8,0\]/);
  });

  it('offsets that do not match the shape', () => {
    rejects(file({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, eight),
      /^model\.safetensors: expected tensor "w" to span 12 bytes \(shape \[3\] of F32\), got data_offsets \[0, 8\] \(8 bytes\)$/);
  });

  it('offsets beyond the data section', () => {
    rejects(file({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, eight),
      /expected tensor "w" to end within the 8-byte data section, got data_offsets \[0, 16\]/);
  });

  it('overlapping tensors', () => {
    rejects(file({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, eight),
      /expected tensor "b" to start at byte 8 .*got data_offsets \[4, 8\], overlapping it$/);
  });

  it('a gap between tensors', () => {
    rejects(file({ a: { dtype: 'U8', shape: [2], data_offsets: [0, 2] }, b: { dtype: 'U8', shape: [2], data_offsets: [4, 6] } }, [1, 2, 3, 4, 5, 6]),
      /expected tensor "b" to start at byte 2 .*got data_offsets \[4, 6\], leaving a 2-byte gap$/);
  });

  it('trailing bytes after the last tensor', () => {
    rejects(file(ok, [...eight, 1, 2]), /expected a 8-byte data section .*got 10 bytes \(2 trailing bytes\)$/);
  });

  it('metadata values that are not strings', () => {
    rejects(file({ __metadata__: { epoch: 3 }, ...ok }, eight), /^model\.safetensors: expected metadata "epoch" to be a string, got 3$/);
    rejects(file({ __metadata__: ['a'], ...ok }, eight), /expected "__metadata__" to be an object of strings, got \["a"\]/);
  });
});

describe('encode rejects', () => {
  it('data whose length is not product(shape), naming the tensor', () => {
    expect(() => encodeSafetensors({ w: { dtype: 'F32', shape: [2, 2], data: new Float32Array(3) } }))
      .toThrow(/^tensors\["w"\]: expected 4 elements \(shape \[2, 2\]\), got 3 elements$/);
  });

  it('an array type that does not match the dtype, naming the tensor', () => {
    expect(() => encodeSafetensors({ w: { dtype: 'F32', shape: [2], data: new Float64Array(2) } }))
      .toThrow(/^tensors\["w"\]: expected data as a Float32Array \(dtype F32\), got Float64Array$/);
    expect(() => encodeSafetensors({ w: { dtype: 'BF16' as 'F32', shape: [2], data: new Float32Array(2) } }))
      .toThrow(/^tensors\["w"\]: expected a dtype among F32, I32, F64, U8, got BF16$/);
  });

  it('a bad shape, the reserved name and non-string metadata', () => {
    expect(() => encodeSafetensors({ w: { dtype: 'U8', shape: [1.5], data: new Uint8Array(1) } })).toThrow(/^tensors\["w"\]: expected a shape of non-negative integers/);
    expect(() => encodeSafetensors({ __metadata__: { dtype: 'U8', shape: [1], data: new Uint8Array(1) } })).toThrow(/reserved/);
    expect(() => encodeSafetensors({}, { epoch: 3 as unknown as string })).toThrow(/^metadata\["epoch"\]: expected a string, got number$/);
  });
});
