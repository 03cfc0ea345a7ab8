// The safetensors checkpoint format (https://github.com/huggingface/safetensors), read and written in memory so it
// runs in browsers and in Node alike; saving or loading the file is the caller's job.
//
// Layout:
//   bytes [0, 8)        N, the header length, a little-endian u64
//   bytes [8, 8+N)      UTF-8 JSON: { "__metadata__": { string: string }, "<tensor>": { dtype, shape, data_offsets } }
//                       possibly padded with trailing spaces (we pad so the data section starts on an 8-byte boundary)
//   bytes [8+N, end)    the data section: each tensor's elements, little-endian, at [begin, end) of data_offsets,
//                       which count from the start of the data section. Tensors are packed with no gaps.
import { InputError } from '../errors.js';

export type Dtype = 'F32' | 'I32' | 'F64' | 'U8';

export type Tensor = {
  dtype: Dtype;
  /** Dimensions, outermost first; [] is a scalar (one element). Data is row-major. */
  shape: number[];
  data: Float32Array | Int32Array | Float64Array | Uint8Array;
};

/** Per dtype: the typed array that holds it and its element size in bytes. */
const DTYPES = {
  F32: { array: Float32Array, bytes: 4 },
  I32: { array: Int32Array, bytes: 4 },
  F64: { array: Float64Array, bytes: 8 },
  U8: { array: Uint8Array, bytes: 1 },
} as const;

const SUPPORTED = Object.keys(DTYPES).join(', ');
const METADATA_KEY = '__metadata__';

/** True on little-endian hosts (all current browsers and Node platforms); then typed-array bytes are file bytes. */
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Serialises tensors (in the order given) and optional string metadata into one safetensors file. */
export function encodeSafetensors(tensors: Record<string, Tensor>, metadata?: Record<string, string>): Uint8Array {
  // 1. The header object: __metadata__ first, then one entry per tensor with its place in the data section.
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== 'string') throw new InputError(`metadata[${JSON.stringify(key)}]`, 'a string', typeof value);
    }
    header[METADATA_KEY] = metadata;
  }
  const entries = Object.entries(tensors);
  let dataBytes = 0;
  for (const [name, tensor] of entries) {
    checkTensor(name, tensor);
    const begin = dataBytes;
    dataBytes += tensor.data.byteLength;
    setOwn(header, name, { dtype: tensor.dtype, shape: [...tensor.shape], data_offsets: [begin, dataBytes] });
  }

  // 2. The header text, padded with spaces so that 8 + N (the data start) is a multiple of 8.
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const withSpaces = new Uint8Array(padded).fill(0x20); // ' '
    withSpaces.set(json);
    json = withSpaces;
  }

  // 3. Length prefix, header, then every tensor's bytes in the same order as their offsets.
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const [, tensor] of entries) {
    writeLittleEndian(tensor, out, at);
    at += tensor.data.byteLength;
  }
  return out;
}

/**
 * Parses a safetensors file. Every tensor's data is a fresh, aligned copy (the file need not be aligned, and the
 * result does not keep `bytes` alive). `name` (the file name, say) labels every error.
 */
export function decodeSafetensors(bytes: Uint8Array, name = 'checkpoint'): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  const fail = (expected: string, actual: string): never => { throw new InputError(name, expected, actual); };

  // 1. The header length and the header itself.
  if (!(bytes instanceof Uint8Array)) fail('a safetensors file as a Uint8Array', describe(bytes));
  if (bytes.length < 8) fail('a safetensors file of at least 8 bytes (the header length)', `${bytes.length} bytes`);
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (headerLength > BigInt(bytes.length - 8)) {
    fail(`a header length of at most ${bytes.length - 8} bytes (what follows the 8-byte length)`,
      `${headerLength} bytes: the header runs past the end of the file (truncated, or not a safetensors file)`);
  }
  const dataStart = 8 + Number(headerLength);
  const dataLength = bytes.length - dataStart;
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, dataStart));
  } catch {
    fail('a UTF-8 JSON header', 'bytes that are not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (error) {
    fail('a header of valid JSON', `${(error as Error).message} (the header begins ${preview(text.trimEnd())})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    fail('a JSON object as the header', Array.isArray(header) ? 'an array' : header === null ? 'null' : typeof header);
  }

  // 2. Each entry: metadata (strings only) or a tensor with a known dtype, a shape and offsets that fit its size.
  const metadata: Record<string, string> = {};
  const placed: { name: string; dtype: Dtype; shape: number[]; begin: number; end: number }[] = [];
  for (const [key, entry] of Object.entries(header as Record<string, unknown>)) {
    if (key === METADATA_KEY) {
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
        fail('"__metadata__" to be an object of strings', describeJson(entry));
      }
      for (const [mkey, value] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof value !== 'string') fail(`metadata ${JSON.stringify(mkey)} to be a string`, describeJson(value));
        setOwn(metadata, mkey, value as string);
      }
      continue;
    }
    const label = `tensor ${JSON.stringify(key)}`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      fail(`${label} to be an object with dtype, shape and data_offsets`, describeJson(entry));
    }
    const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    if (dtype === undefined) fail(`${label} to have a dtype (one of ${SUPPORTED})`, 'no dtype');
    if (typeof dtype !== 'string' || !Object.hasOwn(DTYPES, dtype)) {
      fail(`${label} to have a supported dtype (one of ${SUPPORTED})`, `dtype ${describeJson(dtype)}`);
    }
    if (shape === undefined) fail(`${label} to have a shape`, 'no shape');
    if (!Array.isArray(shape) || !shape.every(isCount)) {
      fail(`${label} to have a shape of non-negative integers`, `shape ${describeJson(shape)}`);
    }
    if (offsets === undefined) fail(`${label} to have data_offsets`, 'no data_offsets');
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[0] > offsets[1]) {
      fail(`${label} to have data_offsets [begin, end] with 0 <= begin <= end`, `data_offsets ${describeJson(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    const dims = shape as number[];
    const size = product(dims) * DTYPES[dtype as Dtype].bytes;
    if (end - begin !== size) {
      fail(`${label} to span ${size} bytes (shape [${dims.join(', ')}] of ${dtype})`,
        `data_offsets [${begin}, ${end}] (${end - begin} bytes)`);
    }
    if (end > dataLength) {
      fail(`${label} to end within the ${dataLength}-byte data section`, `data_offsets [${begin}, ${end}] (truncated file?)`);
    }
    placed.push({ name: key, dtype: dtype as Dtype, shape: [...dims], begin, end });
  }

  // 3. The tensors must tile the data section exactly, in offset order: no overlap, no gap, no trailing bytes.
  placed.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expectedBegin = 0;
  for (const t of placed) {
    if (t.begin < expectedBegin) {
      fail(`tensor ${JSON.stringify(t.name)} to start at byte ${expectedBegin} of the data section, after the tensor before it`,
        `data_offsets [${t.begin}, ${t.end}], overlapping it`);
    }
    if (t.begin > expectedBegin) {
      fail(`tensor ${JSON.stringify(t.name)} to start at byte ${expectedBegin} of the data section (tensors are packed)`,
        `data_offsets [${t.begin}, ${t.end}], leaving a ${t.begin - expectedBegin}-byte gap`);
    }
    expectedBegin = t.end;
  }
  if (expectedBegin !== dataLength) {
    fail(`a ${expectedBegin}-byte data section (the sum of the tensors' sizes)`, `${dataLength} bytes (${dataLength - expectedBegin} trailing bytes)`);
  }

  // 4. Copy each tensor out into its own buffer (aligned, and not keeping the file alive).
  const tensors: Record<string, Tensor> = {};
  for (const t of placed) {
    const data = readLittleEndian(t.dtype, bytes.subarray(dataStart + t.begin, dataStart + t.end));
    setOwn(tensors, t.name, { dtype: t.dtype, shape: t.shape, data });
  }
  return { tensors, metadata };
}

/** Throws unless the tensor's dtype, array type, shape and length agree. */
function checkTensor(name: string, tensor: Tensor): void {
  const field = `tensors[${JSON.stringify(name)}]`;
  if (name === METADATA_KEY) throw new InputError(field, 'a tensor name other than "__metadata__" (reserved)', name);
  if (typeof tensor !== 'object' || tensor === null) throw new InputError(field, 'a { dtype, shape, data } object', String(tensor));
  if (!Object.hasOwn(DTYPES, tensor.dtype)) throw new InputError(field, `a dtype among ${SUPPORTED}`, String(tensor.dtype));
  const { array } = DTYPES[tensor.dtype];
  if (!(tensor.data instanceof array)) {
    throw new InputError(field, `data as a ${array.name} (dtype ${tensor.dtype})`, describe(tensor.data));
  }
  if (!Array.isArray(tensor.shape) || !tensor.shape.every(isCount)) {
    throw new InputError(field, 'a shape of non-negative integers', JSON.stringify(tensor.shape));
  }
  const n = product(tensor.shape);
  if (tensor.data.length !== n) {
    throw new InputError(field, `${n} elements (shape [${tensor.shape.join(', ')}])`, `${tensor.data.length} elements`);
  }
}

/** Writes the tensor's elements into `out` at `offset`, little-endian whatever the host's byte order. */
function writeLittleEndian(tensor: Tensor, out: Uint8Array, offset: number): void {
  const { data } = tensor;
  if (HOST_LITTLE_ENDIAN || tensor.dtype === 'U8') {
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), offset);
    return;
  }
  const view = new DataView(out.buffer, out.byteOffset + offset, data.byteLength);
  for (let i = 0; i < data.length; i++) {
    if (tensor.dtype === 'F32') view.setFloat32(i * 4, data[i]!, true);
    else if (tensor.dtype === 'I32') view.setInt32(i * 4, data[i]!, true);
    else view.setFloat64(i * 8, data[i]!, true);
  }
}

/**
 * Copies `raw` (little-endian file bytes, at any offset) into a fresh ArrayBuffer and views it as `dtype`. The copy
 * starts at offset 0, so e.g. a Float64Array over it is aligned; on a big-endian host each element is byte-swapped.
 */
function readLittleEndian(dtype: Dtype, raw: Uint8Array): Tensor['data'] {
  const { array, bytes } = DTYPES[dtype];
  const buffer = new ArrayBuffer(raw.length);
  new Uint8Array(buffer).set(raw);
  const data = new array(buffer, 0, raw.length / bytes);
  if (HOST_LITTLE_ENDIAN || dtype === 'U8') return data;
  const view = new DataView(buffer);
  for (let i = 0; i < data.length; i++) {
    data[i] = dtype === 'F32' ? view.getFloat32(i * 4, true) : dtype === 'I32' ? view.getInt32(i * 4, true) : view.getFloat64(i * 8, true);
  }
  return data;
}

/** record[key] = value, also for a key like "__proto__" (which plain assignment would treat as the prototype). */
function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function product(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  return (value as object).constructor?.name ?? typeof value;
}

/** A short rendering of a JSON value for messages. */
function describeJson(value: unknown): string {
  return value === undefined ? 'nothing' : preview(JSON.stringify(value));
}

function preview(text: string): string {
  return text.length > 60 ? `${text.slice(0, 60)}...` : text;
}
