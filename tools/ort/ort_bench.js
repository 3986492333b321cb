#!/usr/bin/env node
// Time an ONNX model with ONNX Runtime (CPU EP): the peer for edgefit's benchmarks.
//
//   node tools/ort/ort_bench.js MODEL.onnx [--threads N] [--warmup W] [--iters K]
//        [--input NAME=FILE.npy ...] [--shape NAME=1,3,224,224 ...]
//
// Session: intraOpNumThreads=N (default 1; 0 = ONNX Runtime's choice), interOpNumThreads=1,
// sequential execution, default graph optimization level.
// Inputs not given with --input are generated deterministically with the --shape
// given for them or else the model's static shape: floating-point inputs get
// uniform values in [-1, 1) from a fixed-seed PRNG (mulberry32, seed 42, drawn
// in model input order; each value is a multiple of 2^-23, or 2^-10 for float16),
// integer and bool inputs get zeros.
// Timing: W untimed runs, then K timed runs of session.run() (wall clock, feeds
// prepared once, output allocation included).
//
// stdout: one line of JSON:
//   {"model":..,"threads":N,"median_ms":..,"p10_ms":..,"p90_ms":..,"iters":K, ...extra fields}
// Percentiles interpolate linearly between samples (NumPy's default).
// Errors (bad usage included): exit code 1 and one line on stderr; nothing on stdout.
'use strict';

const c = require('./common.js');

const USAGE =
  'usage: ort_bench.js MODEL.onnx [--threads N] [--warmup W] [--iters K] ' +
  '[--input NAME=FILE.npy ...] [--shape NAME=D0,D1,... ...]';

const DEFAULTS = { threads: 1, warmup: 3, iters: 30 };
const SEED = 42;

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

// Float32 value in [-1, 1): exact multiples of 2^-23, so never rounds up to 1.
function uniformF32(next) {
  return (next() >>> 8) / 8388608 - 1;
}

// Bits of a float16 in [-1, 1) that is a multiple of 2^-10 (exactly representable).
function uniformF16Bits(next) {
  const v = (next() >>> 21) / 1024 - 1; // 11 random bits
  if (v === 0) return 0;
  const sign = v < 0 ? 0x8000 : 0;
  let m = Math.abs(v);
  let e = Math.floor(Math.log2(m));
  if (2 ** e > m) e -= 1; // guard against log2 rounding
  if (e < -14) {
    return sign | Math.round(m / 2 ** -24); // subnormal (not reached for 2^-10 steps, kept for safety)
  }
  const frac = Math.round((m / 2 ** e - 1) * 1024);
  return sign | ((e + 15) << 10) | frac;
}

function parseShape(name, text) {
  if (!/^(|[0-9]+(,[0-9]+)*)$/.test(text.replace(/\s+/g, ''))) {
    throw new c.UsageError(`--shape ${name}=${text}: expected comma-separated non-negative integers`);
  }
  const t = text.replace(/\s+/g, '');
  return t === '' ? [] : t.split(',').map(Number);
}

function makeInput(ort, meta, shape, next) {
  const n = shape.reduce((a, b) => a * b, 1);
  switch (meta.type) {
    case 'float32':
    case 'float64': {
      const data = meta.type === 'float32' ? new Float32Array(n) : new Float64Array(n);
      for (let k = 0; k < n; k++) data[k] = uniformF32(next);
      return [new ort.Tensor(meta.type, data, shape), 'uniform[-1,1)'];
    }
    case 'float16': {
      const data = new Uint16Array(n);
      for (let k = 0; k < n; k++) data[k] = uniformF16Bits(next);
      return [new ort.Tensor('float16', data, shape), 'uniform[-1,1)'];
    }
    case 'int64':
      return [new ort.Tensor('int64', new BigInt64Array(n), shape), 'zeros'];
    case 'uint64':
      return [new ort.Tensor('uint64', new BigUint64Array(n), shape), 'zeros'];
    case 'int32':
      return [new ort.Tensor('int32', new Int32Array(n), shape), 'zeros'];
    case 'uint32':
      return [new ort.Tensor('uint32', new Uint32Array(n), shape), 'zeros'];
    case 'int16':
      return [new ort.Tensor('int16', new Int16Array(n), shape), 'zeros'];
    case 'uint16':
      return [new ort.Tensor('uint16', new Uint16Array(n), shape), 'zeros'];
    case 'int8':
      return [new ort.Tensor('int8', new Int8Array(n), shape), 'zeros'];
    case 'uint8':
      return [new ort.Tensor('uint8', new Uint8Array(n), shape), 'zeros'];
    case 'bool':
      return [new ort.Tensor('bool', new Uint8Array(n), shape), 'zeros'];
    default:
      throw new Error(`input '${meta.name}': cannot generate data of type ${meta.type}; pass it with --input`);
  }
}

function percentile(sorted, p) {
  if (sorted.length === 1) return sorted[0];
  const pos = p * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

const round = (x) => Number(x.toFixed(4));

async function main() {
  const { positional, opts } = c.parseArgs(process.argv.slice(2), {
    threads: 'value',
    warmup: 'value',
    iters: 'value',
    input: 'multi',
    shape: 'multi',
    help: 'flag',
  });
  if (opts.help) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  if (positional.length !== 1) {
    throw new c.UsageError(positional.length ? `expected one model, got ${positional.length} arguments` : 'missing MODEL.onnx');
  }
  const model = positional[0];
  const threads = c.parseIntOpt(opts.threads, 'threads', 0) ?? DEFAULTS.threads;
  const warmup = c.parseIntOpt(opts.warmup, 'warmup', 0) ?? DEFAULTS.warmup;
  const iters = c.parseIntOpt(opts.iters, 'iters', 1) ?? DEFAULTS.iters;
  c.checkModel(model);

  const ort = c.loadOrt();
  const t0 = process.hrtime.bigint();
  const session = await c.createSession(ort, model, threads);
  const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;

  const metaByName = new Map(session.inputMetadata.map((m) => [m.name, m]));
  const shapes = new Map();
  for (const s of opts.shape) {
    const [name, text] = c.splitAssign(s, 'shape');
    if (!metaByName.has(name)) {
      throw new c.UsageError(`--shape: model has no input '${name}' (inputs: ${session.inputNames.map((n) => `'${n}'`).join(', ')})`);
    }
    if (shapes.has(name)) throw new c.UsageError(`--shape for '${name}' given twice`);
    shapes.set(name, parseShape(name, text));
  }

  const feeds = c.loadInputs(ort, session, opts.input);
  const described = [];
  const next = mulberry32(SEED);
  for (const meta of session.inputMetadata) {
    if (meta.name in feeds) {
      if (shapes.has(meta.name)) throw new c.UsageError(`input '${meta.name}' has both --input and --shape`);
      described.push({ name: meta.name, dtype: meta.type, shape: Array.from(feeds[meta.name].dims, Number), data: 'file' });
      continue;
    }
    if (!meta.isTensor) throw new Error(`input '${meta.name}' is not a tensor; only tensor inputs are supported`);
    let shape = shapes.get(meta.name);
    if (shape) {
      c.checkShape(meta.name, meta.shape, shape, '--shape');
    } else {
      const symbolic = meta.shape.filter((d) => typeof d !== 'number');
      if (symbolic.length) {
        throw new c.UsageError(
          `input '${meta.name}' has dynamic shape ${c.fmtShape(meta.shape)}; give --shape ${meta.name}=D0,D1,...`
        );
      }
      shape = meta.shape.slice();
    }
    const [tensor, how] = makeInput(ort, meta, shape, next);
    feeds[meta.name] = tensor;
    described.push({ name: meta.name, dtype: meta.type, shape, data: how });
  }

  const run = async () => {
    try {
      return await session.run(feeds);
    } catch (e) {
      throw new Error(`inference failed: ${e.message}`);
    }
  };
  for (let i = 0; i < warmup; i++) await run();
  const times = [];
  for (let i = 0; i < iters; i++) {
    const s = process.hrtime.bigint();
    await run();
    times.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
  const sorted = times.slice().sort((a, b) => a - b);
  const out = {
    model,
    threads,
    median_ms: round(percentile(sorted, 0.5)),
    p10_ms: round(percentile(sorted, 0.1)),
    p90_ms: round(percentile(sorted, 0.9)),
    iters,
    warmup,
    min_ms: round(sorted[0]),
    mean_ms: round(times.reduce((a, b) => a + b, 0) / times.length),
    load_ms: round(loadMs),
    ort_version: ort.env.versions.node,
    inputs: described,
  };
  process.stdout.write(JSON.stringify(out) + '\n');
}

if (require.main === module) {
  c.installFatalHandlers();
  main().catch(c.die);
}

module.exports = { mulberry32, uniformF32, uniformF16Bits, percentile };
