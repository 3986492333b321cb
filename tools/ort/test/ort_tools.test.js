// Tests for tools/ort: node --test tools/ort/test/
// The .npy tests need nothing installed; the ort_run/ort_bench tests need
// tools/ort/setup.sh to have run and are skipped (with a reason) otherwise.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const ORT_DIR = path.join(__dirname, '..');
const npy = require(path.join(ORT_DIR, 'npy.js'));
const { safeFileName } = require(path.join(ORT_DIR, 'ort_run.js'));
const bench = require(path.join(ORT_DIR, 'ort_bench.js'));

let ortInstalled = true;
try {
  require.resolve('onnxruntime-node', { paths: [ORT_DIR] });
} catch {
  ortInstalled = false;
}
const needOrt = ortInstalled ? {} : { skip: 'onnxruntime-node not installed (run tools/ort/setup.sh)' };

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'edgefit-ort-test-'));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

// ---- .npy -----------------------------------------------------------------

const SAMPLES = {
  float16: new Uint16Array([0x3c00, 0xbc00, 0x0000, 0x7c00]),
  float32: new Float32Array([1.5, -2.25, 0, 3e38]),
  float64: new Float64Array([Math.PI, -1e300, 0, 5e-324]),
  int8: new Int8Array([-128, 127, 0, 1]),
  uint8: new Uint8Array([0, 255, 7, 8]),
  int16: new Int16Array([-32768, 32767, 0, -1]),
  uint16: new Uint16Array([0, 65535, 1, 2]),
  int32: new Int32Array([-2147483648, 2147483647, 0, -1]),
  uint32: new Uint32Array([0, 4294967295, 1, 2]),
  int64: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n]),
  uint64: new BigUint64Array([0n, 2n ** 64n - 1n, 1n, 2n]),
  bool: new Uint8Array([1, 0, 0, 1]),
};

test('npy round trip for every dtype, header aligned to 64 bytes', () => {
  for (const [dtype, data] of Object.entries(SAMPLES)) {
    const buf = npy.formatNpy(dtype, [2, 2], data);
    assert.equal(buf.readUInt16LE(8) + 10, buf.length - data.byteLength, dtype);
    assert.equal((buf.length - data.byteLength) % 64, 0, dtype);
    const back = npy.parseNpy(buf);
    assert.equal(back.dtype, dtype);
    assert.deepEqual(back.shape, [2, 2]);
    assert.deepEqual(Array.from(back.data), Array.from(data), dtype);
  }
});

test('npy header text matches numpy.save', () => {
  const cases = [
    ['float32', [2, 3], "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"],
    ['int64', [5], "{'descr': '<i8', 'fortran_order': False, 'shape': (5,), }"],
    ['bool', [], "{'descr': '|b1', 'fortran_order': False, 'shape': (), }"],
    ['uint8', [0, 4], "{'descr': '|u1', 'fortran_order': False, 'shape': (0, 4), }"],
  ];
  for (const [dtype, shape, dict] of cases) {
    const n = shape.reduce((a, b) => a * b, 1);
    const Ctor = { float32: Float32Array, int64: BigInt64Array, bool: Uint8Array, uint8: Uint8Array }[dtype];
    const buf = npy.formatNpy(dtype, shape, new Ctor(n));
    const header = buf.toString('latin1', 10, 10 + buf.readUInt16LE(8));
    assert.equal(header.trimEnd(), dict);
    assert.ok(header.endsWith('\n'));
  }
});

function handMade(header, major = 1, payload = Buffer.alloc(0)) {
  const h = Buffer.from(header, 'latin1');
  const pre = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const len = Buffer.alloc(major === 1 ? 2 : 4);
  if (major === 1) len.writeUInt16LE(h.length);
  else len.writeUInt32LE(h.length);
  return Buffer.concat([pre, len, h, payload]);
}

test('npy reader: 2.0/3.0 headers, key order, double quotes, scalar', () => {
  const payload = Buffer.from(new Float32Array([1, 2, 3]).buffer);
  for (const major of [2, 3]) {
    const a = npy.parseNpy(handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }\n", major, payload));
    assert.deepEqual(Array.from(a.data), [1, 2, 3]);
  }
  const b = npy.parseNpy(handMade('{"shape": (3,), "fortran_order": False, "descr": "<f4"}\n', 1, payload));
  assert.deepEqual(b.shape, [3]);
  const s = npy.parseNpy(handMade("{'descr': '<f8', 'fortran_order': False, 'shape': (), }\n", 1, Buffer.from(new Float64Array([7]).buffer)));
  assert.deepEqual(s.shape, []);
  assert.equal(s.data[0], 7);
  // '>' on a one-byte type is harmless
  const u = npy.parseNpy(handMade("{'descr': '>u1', 'fortran_order': False, 'shape': (2,), }\n", 1, Buffer.from([1, 2])));
  assert.deepEqual(Array.from(u.data), [1, 2]);
});

test('npy writer switches to format 2.0 for huge headers', () => {
  const shape = new Array(30000).fill(1);
  const buf = npy.formatNpy('uint8', shape, new Uint8Array(1));
  assert.equal(buf[6], 2);
  assert.equal((buf.length - 1) % 64, 0);
  assert.equal(npy.parseNpy(buf).shape.length, 30000);
});

test('npy reader rejects what it cannot represent', () => {
  const f4 = Buffer.from(new Float32Array([1, 2]).buffer);
  const bad = [
    [handMade("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }\n", 1, f4), /fortran_order=True/],
    [handMade("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }\n", 1, f4), /big-endian/],
    [handMade("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }\n", 1, f4), /unsupported dtype/],
    [handMade("{'descr': '<U3', 'fortran_order': False, 'shape': (1,), }\n", 1, f4), /unsupported dtype/],
    [handMade("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }\n", 1, f4), /structured/],
    [handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }\n", 1, f4), /data size mismatch/],
    [handMade("{'descr': '<f4', 'shape': (2,), }\n", 1, f4), /lacks 'fortran_order'/],
    [handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), \n", 1, f4), /malformed/],
    [handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n", 4, f4), /version 4/],
    [Buffer.from('PK\x03\x04 not npy'), /bad magic/],
  ];
  for (const [buf, re] of bad) assert.throws(() => npy.parseNpy(buf), re);
});

test('output names map to safe file names', () => {
  assert.equal(safeFileName('mat/out:0'), 'mat_out_0');
  assert.equal(safeFileName('a b\\c'), 'a_b_c');
  assert.equal(safeFileName('ok-1.2_x'), 'ok-1.2_x');
  assert.equal(safeFileName('é'), '_');
});

test('bench PRNG and percentiles are deterministic', () => {
  const next = bench.mulberry32(42);
  const xs = Array.from({ length: 10000 }, () => bench.uniformF32(next));
  assert.ok(xs.every((x) => x >= -1 && x < 1 && Math.fround(x) === x));
  const again = bench.mulberry32(42);
  assert.equal(bench.uniformF32(again), xs[0]);
  assert.equal(bench.percentile([1, 2, 3, 4], 0.5), 2.5);
  assert.equal(bench.percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.1), 1.9);
  assert.equal(bench.uniformF16Bits(() => 0), 0xbc00); // -1.0
  assert.equal(bench.uniformF16Bits(() => 1024 << 21), 0); // 0.0
  assert.equal(bench.uniformF16Bits(() => 1536 << 21), 0x3800); // 0.5
});

// ---- ort_run / ort_bench end to end ------------------------------------------
// A tiny ONNX model encoded by hand (protobuf), so no Python is needed:
//   c = Add(a, b); "out/d:0" = Greater(a, b); a, b: float32 [N, 3]; opset 17.

function varint(n) {
  let v = BigInt(n);
  const out = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v) byte |= 0x80;
    out.push(byte);
  } while (v);
  return Buffer.from(out);
}
const fVarint = (field, n) => Buffer.concat([varint((field << 3) | 0), varint(n)]);
const fBytes = (field, b) => {
  const buf = Buffer.isBuffer(b) ? b : Buffer.from(b, 'utf8');
  return Buffer.concat([varint((field << 3) | 2), varint(buf.length), buf]);
};
const node = (op, ins, outs) =>
  Buffer.concat([...ins.map((s) => fBytes(1, s)), ...outs.map((s) => fBytes(2, s)), fBytes(4, op)]);
const dim = (d) => fBytes(1, typeof d === 'number' ? fVarint(1, d) : fBytes(2, d));
const valueInfo = (name, elemType, dims) =>
  Buffer.concat([
    fBytes(1, name),
    fBytes(2, fBytes(1, Buffer.concat([fVarint(1, elemType), fBytes(2, Buffer.concat(dims.map(dim)))]))),
  ]);

function tinyModel(opset) {
  const FLOAT = 1;
  const BOOL = 9;
  const graph = Buffer.concat([
    fBytes(1, node('Add', ['a', 'b'], ['c'])),
    fBytes(1, node('Greater', ['a', 'b'], ['out/d:0'])),
    fBytes(2, 'tiny'),
    fBytes(11, valueInfo('a', FLOAT, ['N', 3])),
    fBytes(11, valueInfo('b', FLOAT, ['N', 3])),
    fBytes(12, valueInfo('c', FLOAT, ['N', 3])),
    fBytes(12, valueInfo('out/d:0', BOOL, ['N', 3])),
  ]);
  return Buffer.concat([
    fVarint(1, 8), // ir_version
    fBytes(2, 'edgefit-test'),
    fBytes(7, graph),
    fBytes(8, Buffer.concat([fBytes(1, ''), fVarint(2, opset)])),
  ]);
}

function runTool(script, args) {
  const r = spawnSync(process.execPath, [path.join(ORT_DIR, script), ...args], { encoding: 'utf8', cwd: tmp });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('ort_run: --list, run, outputs as .npy, errors', needOrt, () => {
  const model = path.join(tmp, 'tiny.onnx');
  fs.writeFileSync(model, tinyModel(17));
  const a = new Float32Array([1, 2, 3, -4, 5, -6]);
  const b = new Float32Array([0.5, 2, 4, -8, 16, -0.25]);
  npy.writeNpy(path.join(tmp, 'a.npy'), 'float32', [2, 3], a);
  npy.writeNpy(path.join(tmp, 'b.npy'), 'float32', [2, 3], b);

  let r = runTool('ort_run.js', [model, '--list']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), {
    inputs: [
      { name: 'a', dtype: 'float32', shape: ['N', 3] },
      { name: 'b', dtype: 'float32', shape: ['N', 3] },
    ],
    outputs: [
      { name: 'c', dtype: 'float32', shape: ['N', 3] },
      { name: 'out/d:0', dtype: 'bool', shape: ['N', 3] },
    ],
  });

  r = runTool('ort_run.js', [model, '--input', 'a=a.npy', '--input=b=b.npy', '--output-dir', 'out', '--threads', '1']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n').length, 1);
  const summary = JSON.parse(r.stdout);
  assert.deepEqual(summary.outputs, [
    { name: 'c', file: path.join('out', 'c.npy'), dtype: 'float32', shape: [2, 3] },
    { name: 'out/d:0', file: path.join('out', 'out_d_0.npy'), dtype: 'bool', shape: [2, 3] },
  ]);
  const c = npy.readNpy(path.join(tmp, 'out', 'c.npy'));
  assert.deepEqual(Array.from(c.data), Array.from(a, (x, i) => Math.fround(x + b[i])));
  const d = npy.readNpy(path.join(tmp, 'out', 'out_d_0.npy'));
  assert.deepEqual(Array.from(d.data), Array.from(a, (x, i) => (x > b[i] ? 1 : 0)));

  // opset 21 loads too
  fs.writeFileSync(path.join(tmp, 'tiny21.onnx'), tinyModel(21));
  r = runTool('ort_run.js', ['tiny21.onnx', '--input', 'a=a.npy', '--input', 'b=b.npy', '--output-dir', 'out21']);
  assert.equal(r.code, 0, r.stderr);

  npy.writeNpy(path.join(tmp, 'a64.npy'), 'float64', [2, 3], Float64Array.from(a));
  const failures = [
    [[model, '--input', 'a=a.npy', '--output-dir', 'o'], /missing --input for 'b'/],
    [[model, '--input', 'a=a64.npy', '--input', 'b=b.npy', '--output-dir', 'o'], /expects float32.*float64/],
    [[model, '--input', 'z=a.npy', '--input', 'b=b.npy', '--output-dir', 'o'], /no input 'z'/],
    [[model, '--input', 'a=a.npy', '--input', 'b=b.npy'], /missing --output-dir/],
    [['nope.onnx', '--list'], /cannot open model/],
    [['a.npy', '--list'], /cannot load model/],
    [[model, '--bogus'], /unknown option --bogus/],
  ];
  for (const [args, re] of failures) {
    r = runTool('ort_run.js', args);
    assert.equal(r.code, 1, args.join(' '));
    assert.equal(r.stdout, '');
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  }
});

test('ort_bench: JSON summary, shapes, errors', needOrt, () => {
  const model = path.join(tmp, 'bench.onnx');
  fs.writeFileSync(model, tinyModel(17));
  let r = runTool('ort_bench.js', [model, '--shape', 'a=4,3', '--shape', 'b=4,3', '--warmup', '1', '--iters', '5']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.model, model);
  assert.equal(out.threads, 1);
  assert.equal(out.iters, 5);
  for (const k of ['median_ms', 'p10_ms', 'p90_ms']) assert.ok(out[k] > 0, k);
  assert.ok(out.p10_ms <= out.median_ms && out.median_ms <= out.p90_ms);
  assert.deepEqual(out.inputs[0], { name: 'a', dtype: 'float32', shape: [4, 3], data: 'uniform[-1,1)' });

  r = runTool('ort_bench.js', [model, '--shape', 'a=4,3']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /input 'b' has dynamic shape \[N,3\]/);
  r = runTool('ort_bench.js', [model, '--shape', 'a=4,3', '--shape', 'b=4', '--iters', '1']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /expects rank 2/);
});
