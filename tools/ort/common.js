// Shared helpers for ort_run.js and ort_bench.js.
'use strict';

const fs = require('fs');
const path = require('path');
const { readNpy } = require('./npy.js');

class UsageError extends Error {}

// Print a one-line error on stderr and exit 1.
function die(err) {
  let msg = err && err.message !== undefined ? err.message : String(err);
  msg = msg.replace(/\s*[\r\n]+\s*/g, ' ').trim() || 'unknown error';
  if (err instanceof UsageError) msg += ' (see --help)';
  process.stderr.write(`${path.basename(process.argv[1] || 'ort')}: error: ${msg}\n`);
  process.exit(1);
}

function installFatalHandlers() {
  process.on('uncaughtException', die);
  process.on('unhandledRejection', die);
}

function loadOrt() {
  try {
    return require('onnxruntime-node');
  } catch (e) {
    if (e && e.code === 'MODULE_NOT_FOUND' && /onnxruntime-node/.test(e.message)) {
      throw new Error(`onnxruntime-node is not installed; run ${path.join(__dirname, 'setup.sh')}`);
    }
    throw new Error(`cannot load onnxruntime-node: ${e.message}`);
  }
}

// Generic argv parser. `spec` maps option name -> 'flag' | 'value' | 'multi'.
// Accepts "--opt value" and "--opt=value". Returns { positional, opts }.
function parseArgs(argv, spec) {
  const positional = [];
  const opts = {};
  for (const [k, kind] of Object.entries(spec)) if (kind === 'multi') opts[k] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('--') || a === '--') {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    const kind = spec[name];
    if (!kind) throw new UsageError(`unknown option --${name}`);
    if (kind === 'flag') {
      if (eq >= 0) throw new UsageError(`option --${name} takes no value`);
      opts[name] = true;
      continue;
    }
    let val;
    if (eq >= 0) val = a.slice(eq + 1);
    else {
      if (i + 1 >= argv.length) throw new UsageError(`option --${name} needs a value`);
      val = argv[++i];
    }
    if (kind === 'multi') opts[name].push(val);
    else opts[name] = val;
  }
  return { positional, opts };
}

function parseIntOpt(val, name, min) {
  if (val === undefined) return undefined;
  if (!/^[0-9]+$/.test(val) || Number(val) < min || !Number.isSafeInteger(Number(val))) {
    throw new UsageError(`--${name} must be an integer >= ${min}, got '${val}'`);
  }
  return Number(val);
}

// "NAME=VALUE" -> [NAME, VALUE], split at the first '='.
function splitAssign(s, opt) {
  const eq = s.indexOf('=');
  if (eq <= 0 || eq === s.length - 1) throw new UsageError(`--${opt} expects NAME=VALUE, got '${s}'`);
  return [s.slice(0, eq), s.slice(eq + 1)];
}

function checkModel(model) {
  if (!model) throw new UsageError('missing MODEL.onnx');
  let st;
  try {
    st = fs.statSync(model);
  } catch (e) {
    throw new Error(`cannot open model '${model}': ${e.code || e.message}`);
  }
  if (!st.isFile()) throw new Error(`model '${model}' is not a file`);
}

function sessionOptions(threads) {
  const o = {
    executionProviders: ['cpu'],
    interOpNumThreads: 1,
    executionMode: 'sequential',
    logSeverityLevel: 4, // fatal only: errors are reported by us, as one line
  };
  // 0 = let ONNX Runtime choose (one thread per physical core).
  if (threads !== undefined && threads > 0) o.intraOpNumThreads = threads;
  return o;
}

async function createSession(ort, model, threads) {
  try {
    return await ort.InferenceSession.create(model, sessionOptions(threads));
  } catch (e) {
    throw new Error(`cannot load model '${model}': ${e.message}`);
  }
}

function describeValues(meta) {
  return meta.map((m) =>
    m.isTensor ? { name: m.name, dtype: m.type, shape: m.shape.slice() } : { name: m.name, dtype: null, shape: null }
  );
}

// Read the --input NAME=FILE.npy list into { name: ort.Tensor }, checking
// names and element types against the session's input metadata.
function loadInputs(ort, session, inputArgs) {
  const byName = new Map(session.inputMetadata.map((m) => [m.name, m]));
  const feeds = {};
  for (const arg of inputArgs) {
    const [name, file] = splitAssign(arg, 'input');
    const meta = byName.get(name);
    if (!meta) {
      throw new UsageError(`model has no input '${name}' (inputs: ${session.inputNames.map((n) => `'${n}'`).join(', ')})`);
    }
    if (name in feeds) throw new UsageError(`input '${name}' given twice`);
    if (!meta.isTensor) throw new Error(`input '${name}' is not a tensor; only tensor inputs are supported`);
    const arr = readNpy(file);
    if (arr.dtype !== meta.type) {
      throw new Error(`input '${name}': model expects ${meta.type}, '${file}' holds ${arr.dtype}`);
    }
    checkShape(name, meta.shape, arr.shape, file);
    feeds[name] = new ort.Tensor(meta.type, arr.data, arr.shape);
  }
  return feeds;
}

function checkShape(name, want, got, source) {
  // ORT reports an unknown rank as [] (same as a scalar); only check a stated rank.
  if (!want || (want.length === 0 && got.length !== 0)) return;
  if (want.length !== got.length) {
    throw new Error(
      `input '${name}': model expects rank ${want.length} ${fmtShape(want)}, ${source} has shape ${fmtShape(got)}`
    );
  }
  for (let k = 0; k < want.length; k++) {
    if (typeof want[k] === 'number' && want[k] !== got[k]) {
      throw new Error(`input '${name}': model expects shape ${fmtShape(want)}, ${source} has shape ${fmtShape(got)}`);
    }
  }
}

function fmtShape(s) {
  return `[${s.join(',')}]`;
}

module.exports = {
  UsageError,
  die,
  installFatalHandlers,
  loadOrt,
  parseArgs,
  parseIntOpt,
  splitAssign,
  checkModel,
  createSession,
  describeValues,
  loadInputs,
  checkShape,
  fmtShape,
};
