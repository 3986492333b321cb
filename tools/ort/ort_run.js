#!/usr/bin/env node
// Run an ONNX model once with ONNX Runtime (CPU EP) and write every output as .npy.
//
//   node tools/ort/ort_run.js MODEL.onnx --input NAME=FILE.npy [--input ...] --output-dir DIR [--threads N]
//   node tools/ort/ort_run.js MODEL.onnx --list
//
// stdout: one line of JSON.
//   run:  {"outputs":[{"name":..,"file":..,"dtype":..,"shape":[..]}]}
//   list: {"inputs":[{"name":..,"dtype":..,"shape":[..]}],"outputs":[...]}
//         (symbolic dimensions appear as strings, unknown rank as [])
// Errors (bad usage included): exit code 1 and one line on stderr; nothing on stdout.
'use strict';

const fs = require('fs');
const path = require('path');
const c = require('./common.js');
const { writeNpy } = require('./npy.js');

const USAGE =
  'usage: ort_run.js MODEL.onnx --input NAME=FILE.npy [--input ...] --output-dir DIR [--threads N]\n' +
  '       ort_run.js MODEL.onnx --list';

// Characters outside [A-Za-z0-9._-] become '_'.
function safeFileName(name) {
  const s = name.replace(/[^A-Za-z0-9._-]/g, '_');
  return s === '' ? '_' : s;
}

async function main() {
  const { positional, opts } = c.parseArgs(process.argv.slice(2), {
    input: 'multi',
    'output-dir': 'value',
    threads: 'value',
    list: 'flag',
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
  const threads = c.parseIntOpt(opts.threads, 'threads', 0) ?? 1;
  if (!opts.list && !opts['output-dir']) throw new c.UsageError('missing --output-dir DIR');
  c.checkModel(model);

  const ort = c.loadOrt();
  const session = await c.createSession(ort, model, threads);

  if (opts.list) {
    const out = { inputs: c.describeValues(session.inputMetadata), outputs: c.describeValues(session.outputMetadata) };
    process.stdout.write(JSON.stringify(out) + '\n');
    return;
  }

  // Work out file names first so that a collision fails before running.
  const outDir = opts['output-dir'];
  const files = new Map();
  for (const name of session.outputNames) {
    const f = safeFileName(name) + '.npy';
    if (files.has(f)) {
      throw new Error(`outputs '${files.get(f)}' and '${name}' both map to file name '${f}'`);
    }
    files.set(f, name);
  }
  for (const m of session.outputMetadata) {
    if (!m.isTensor) throw new Error(`output '${m.name}' is not a tensor; only tensor outputs are supported`);
  }

  const feeds = c.loadInputs(ort, session, opts.input);
  const missing = session.inputNames.filter((n) => !(n in feeds));
  if (missing.length) {
    throw new c.UsageError(`missing --input for ${missing.map((n) => `'${n}'`).join(', ')}`);
  }

  let results;
  try {
    results = await session.run(feeds);
  } catch (e) {
    throw new Error(`inference failed: ${e.message}`);
  }

  try {
    fs.mkdirSync(outDir, { recursive: true });
  } catch (e) {
    throw new Error(`cannot create output directory '${outDir}': ${e.code || e.message}`);
  }
  const summary = [];
  for (const name of session.outputNames) {
    const t = results[name];
    if (!t) throw new Error(`ONNX Runtime returned no value for output '${name}'`);
    if (t.type === 'string') throw new Error(`output '${name}' is a string tensor; not supported in .npy output`);
    const shape = Array.from(t.dims, Number);
    const file = path.join(outDir, safeFileName(name) + '.npy');
    try {
      writeNpy(file, t.type, shape, t.data);
    } catch (e) {
      throw new Error(`output '${name}': ${e.message}`);
    }
    summary.push({ name, file, dtype: t.type, shape });
  }
  process.stdout.write(JSON.stringify({ outputs: summary }) + '\n');
}

if (require.main === module) {
  c.installFatalHandlers();
  main().catch(c.die);
}

module.exports = { safeFileName };
