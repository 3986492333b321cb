// Minimal, strict .npy reader/writer (NumPy format versions 1.0, 2.0 and 3.0).
//
// Supported dtypes (little-endian, C order): f2 f4 f8 i1 u1 i2 u2 i4 u4 i8 u8 b1.
// Tensors are returned as { dtype, shape, data } where dtype is the
// onnxruntime/NumPy type name ('float32', 'int64', 'bool', ...), shape is an
// array of non-negative integers and data is a typed array that owns its memory
// (float16 is carried as raw bits in a Uint16Array, bool as 0/1 in a Uint8Array).
'use strict';

const fs = require('fs');
const os = require('os');

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

// kind+size -> [ort/numpy type name, typed array constructor]
const DTYPES = {
  f2: ['float16', Uint16Array],
  f4: ['float32', Float32Array],
  f8: ['float64', Float64Array],
  i1: ['int8', Int8Array],
  u1: ['uint8', Uint8Array],
  i2: ['int16', Int16Array],
  u2: ['uint16', Uint16Array],
  i4: ['int32', Int32Array],
  u4: ['uint32', Uint32Array],
  i8: ['int64', BigInt64Array],
  u8: ['uint64', BigUint64Array],
  b1: ['bool', Uint8Array],
};
const BY_NAME = {};
for (const [code, [name, ctor]] of Object.entries(DTYPES)) {
  BY_NAME[name] = { code, ctor, itemsize: Number(code.slice(1)) };
}

class NpyError extends Error {}

if (os.endianness() !== 'LE') {
  // Typed arrays use host byte order; everything below assumes little-endian.
  throw new NpyError('npy.js: big-endian hosts are not supported');
}

// --- A tiny parser for the Python-literal header dict -----------------------
// Grammar subset: dict of str -> (str | True | False | int | tuple/list of int).
function parseHeaderLiteral(text) {
  let i = 0;
  const fail = (what) => {
    throw new NpyError(`malformed .npy header (${what} at offset ${i}): ${JSON.stringify(text.trim())}`);
  };
  const ws = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const value = () => {
    ws();
    const c = text[i];
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) fail('unterminated string');
      const s = text.slice(i + 1, end);
      if (s.includes('\\')) fail('escape in string');
      i = end + 1;
      return s;
    }
    if (c === '(' || c === '[') {
      const close = c === '(' ? ')' : ']';
      i++;
      const items = [];
      for (;;) {
        ws();
        if (text[i] === close) {
          i++;
          return items;
        }
        items.push(value());
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== close) fail(`expected ',' or '${close}'`);
      }
    }
    if (text.startsWith('True', i)) {
      i += 4;
      return true;
    }
    if (text.startsWith('False', i)) {
      i += 5;
      return false;
    }
    const m = /^[0-9]+L?/.exec(text.slice(i));
    if (m) {
      i += m[0].length;
      return Number(m[0].replace('L', ''));
    }
    fail('unexpected token');
  };
  ws();
  if (text[i] !== '{') fail("expected '{'");
  i++;
  const out = {};
  for (;;) {
    ws();
    if (text[i] === '}') {
      i++;
      break;
    }
    const key = value();
    if (typeof key !== 'string') fail('non-string key');
    ws();
    if (text[i] !== ':') fail("expected ':'");
    i++;
    out[key] = value();
    ws();
    if (text[i] === ',') i++;
    else if (text[i] !== '}') fail("expected ',' or '}'");
  }
  ws();
  if (i !== text.length) fail('trailing characters');
  return out;
}

function parseDescr(descr, where) {
  if (typeof descr !== 'string') {
    throw new NpyError(`${where}: structured dtypes are not supported (descr=${JSON.stringify(descr)})`);
  }
  const m = /^([<>|=]?)([a-zA-Z])(\d+)$/.exec(descr);
  if (!m) throw new NpyError(`${where}: unsupported dtype descr '${descr}'`);
  const [, order, kind, size] = m;
  const code = kind + size;
  const entry = DTYPES[code];
  if (!entry) {
    throw new NpyError(
      `${where}: unsupported dtype '${descr}' (supported: ${Object.keys(DTYPES).join(' ')}, little-endian)`
    );
  }
  if (order === '>' && Number(size) > 1) {
    throw new NpyError(`${where}: big-endian dtype '${descr}' is not supported; convert with arr.astype(arr.dtype.newbyteorder('<'))`);
  }
  return { name: entry[0], ctor: entry[1], itemsize: Number(size) };
}

function numElements(shape) {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

// Parse an .npy file held in a Buffer. `where` names it in error messages.
function parseNpy(buf, where = '<buffer>') {
  if (buf.length < 10 || !buf.subarray(0, 6).equals(MAGIC)) {
    throw new NpyError(`${where}: not an .npy file (bad magic)`);
  }
  const major = buf[6];
  const minor = buf[7];
  let headerLen;
  let headerStart;
  if (major === 1) {
    headerLen = buf.readUInt16LE(8);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (buf.length < 12) throw new NpyError(`${where}: truncated .npy header`);
    headerLen = buf.readUInt32LE(8);
    headerStart = 12;
  } else {
    throw new NpyError(`${where}: unsupported .npy format version ${major}.${minor}`);
  }
  const dataStart = headerStart + headerLen;
  if (dataStart > buf.length) throw new NpyError(`${where}: truncated .npy header`);
  const headerText = buf.toString(major === 3 ? 'utf8' : 'latin1', headerStart, dataStart);
  const header = parseHeaderLiteral(headerText);
  for (const k of ['descr', 'fortran_order', 'shape']) {
    if (!(k in header)) throw new NpyError(`${where}: .npy header lacks '${k}'`);
  }
  if (header.fortran_order !== false) {
    if (header.fortran_order === true) {
      throw new NpyError(`${where}: fortran_order=True is not supported; save a C-contiguous array (np.ascontiguousarray)`);
    }
    throw new NpyError(`${where}: bad fortran_order value`);
  }
  const shape = header.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new NpyError(`${where}: bad shape ${JSON.stringify(shape)}`);
  }
  const { name, ctor, itemsize } = parseDescr(header.descr, where);
  const count = numElements(shape);
  const nbytes = count * itemsize;
  const have = buf.length - dataStart;
  if (have !== nbytes) {
    throw new NpyError(
      `${where}: data size mismatch: shape ${JSON.stringify(shape)} of ${name} needs ${nbytes} bytes, file has ${have}`
    );
  }
  // Copy into a fresh, aligned ArrayBuffer.
  const ab = new ArrayBuffer(nbytes);
  new Uint8Array(ab).set(buf.subarray(dataStart, dataStart + nbytes));
  const data = new ctor(ab);
  if (name === 'bool') {
    for (let k = 0; k < data.length; k++) if (data[k] > 1) data[k] = 1;
  }
  return { dtype: name, shape, data };
}

function readNpy(file) {
  let buf;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new NpyError(`cannot read '${file}': ${e.code || e.message}`);
  }
  return parseNpy(buf, file);
}

// Serialize to an .npy Buffer (format 1.0, or 2.0 if the header needs it).
function formatNpy(dtype, shape, data) {
  const info = BY_NAME[dtype];
  if (!info) throw new NpyError(`cannot write dtype '${dtype}' to .npy`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new NpyError(`bad shape ${JSON.stringify(shape)}`);
  }
  const count = numElements(shape);
  if (data.length !== count) {
    throw new NpyError(`data length ${data.length} does not match shape ${JSON.stringify(shape)}`);
  }
  const order = info.itemsize === 1 ? '|' : '<';
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${order}${info.code}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  let major = 1;
  let prefix = 10;
  // Pad with spaces and a final '\n' so that the data starts on a 64-byte boundary.
  let total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  if (total - prefix > 0xffff) {
    major = 2;
    prefix = 12;
    total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  }
  const headerLen = total - prefix;
  const header = dict + ' '.repeat(headerLen - dict.length - 1) + '\n';
  const out = Buffer.alloc(total + count * info.itemsize);
  MAGIC.copy(out, 0);
  out[6] = major;
  out[7] = 0;
  if (major === 1) out.writeUInt16LE(headerLen, 8);
  else out.writeUInt32LE(headerLen, 8);
  out.write(header, prefix, 'latin1');
  let bytes;
  if (data instanceof info.ctor) {
    bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  } else if (dtype === 'bool' && (Array.isArray(data) || ArrayBuffer.isView(data))) {
    bytes = Buffer.from(Array.from(data, (v) => (v ? 1 : 0)));
  } else {
    bytes = Buffer.from(info.ctor.from(data).buffer);
  }
  if (dtype === 'bool') {
    bytes = Buffer.from(bytes); // copy, then normalize to 0/1
    for (let k = 0; k < bytes.length; k++) if (bytes[k] > 1) bytes[k] = 1;
  }
  bytes.copy(out, total);
  return out;
}

function writeNpy(file, dtype, shape, data) {
  fs.writeFileSync(file, formatNpy(dtype, shape, data));
}

module.exports = { NpyError, parseNpy, readNpy, formatNpy, writeNpy, DTYPE_NAMES: Object.keys(BY_NAME) };
