#!/usr/bin/env node
// Run many ONNX models with ONNX Runtime (CPU EP) in one process, each once, writing every
// output as .npy — ort_run.js for a list of jobs, without paying node + ORT start-up per model.
//
//   node tools/ort/ort_batch.js JOBS.json RESULTS.jsonl [--threads N]
//
// JOBS.json:  {"jobs": [{"id": "node/test_abs", "model": "m.onnx",
//                        "inputs": {"x": "x.npy", ...}, "output_dir": "DIR"}, ...]}
// Each job behaves like `ort_run.js MODEL --input NAME=FILE ... --output-dir DIR` (same session
// options, same input checks, same output file names). One JSON line per job is appended to
// RESULTS.jsonl as soon as the job is done, so a caller can tell how far a crashed run got:
//   {"id": ..., "ok": true, "outputs": [{"name":..,"file":..,"dtype":..,"shape":[..]}]}
//   {"id": ..., "ok": false, "error": "one line"}
// A failing job does not stop the batch. Exit code 0 when every job was attempted; 1 (one line
// on stderr) when the job list is unusable.
'use strict';

const fs = require('fs');
const path = require('path');
const c = require('./common.js');
const { writeNpy } = require('./npy.js');
const { safeFileName } = require('./ort_run.js');

const USAGE = 'usage: ort_batch.js JOBS.json RESULTS.jsonl [--threads N]';

function oneLine(msg) {
  return String(msg).replace(/\s*[\r\n]+\s*/g, ' ').trim() || 'unknown error';
}

async function runJob(ort, job, threads) {
  c.checkModel(job.model);
  const session = await c.createSession(ort, job.model, threads);
  try {
    const files = new Map();
    for (const name of session.outputNames) {
      const f = safeFileName(name) + '.npy';
      if (files.has(f)) throw new Error(`outputs '${files.get(f)}' and '${name}' both map to file name '${f}'`);
      files.set(f, name);
    }
    for (const m of session.outputMetadata) {
      if (!m.isTensor) throw new Error(`output '${m.name}' is not a tensor; only tensor outputs are supported`);
    }
    const args = Object.entries(job.inputs || {}).map(([n, f]) => `${n}=${f}`);
    const feeds = c.loadInputs(ort, session, args);
    const missing = session.inputNames.filter((n) => !(n in feeds));
    if (missing.length) throw new Error(`missing input ${missing.map((n) => `'${n}'`).join(', ')}`);
    let results;
    try {
      results = await session.run(feeds);
    } catch (e) {
      throw new Error(`inference failed: ${e.message}`);
    }
    fs.mkdirSync(job.output_dir, { recursive: true });
    const outputs = [];
    for (const name of session.outputNames) {
      const t = results[name];
      if (!t) throw new Error(`ONNX Runtime returned no value for output '${name}'`);
      if (t.type === 'string') throw new Error(`output '${name}' is a string tensor; not supported in .npy output`);
      const shape = Array.from(t.dims, Number);
      const file = path.join(job.output_dir, safeFileName(name) + '.npy');
      try {
        writeNpy(file, t.type, shape, t.data);
      } catch (e) {
        throw new Error(`output '${name}': ${e.message}`);
      }
      outputs.push({ name, file, dtype: t.type, shape });
    }
    return outputs;
  } finally {
    if (typeof session.release === 'function') await session.release();
  }
}

async function main() {
  const { positional, opts } = c.parseArgs(process.argv.slice(2), { threads: 'value', help: 'flag' });
  if (opts.help) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  if (positional.length !== 2) throw new c.UsageError('expected JOBS.json and RESULTS.jsonl');
  const [jobsFile, resultsFile] = positional;
  const threads = c.parseIntOpt(opts.threads, 'threads', 0) ?? 1;
  let spec;
  try {
    spec = JSON.parse(fs.readFileSync(jobsFile, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read job list '${jobsFile}': ${e.message}`);
  }
  if (!spec || !Array.isArray(spec.jobs)) throw new Error(`'${jobsFile}' has no "jobs" array`);
  const ort = c.loadOrt();
  const out = fs.openSync(resultsFile, 'a');
  for (const job of spec.jobs) {
    let line;
    try {
      if (!job || typeof job.id !== 'string' || typeof job.model !== 'string' || typeof job.output_dir !== 'string') {
        throw new Error('a job needs "id", "model" and "output_dir" strings');
      }
      const outputs = await runJob(ort, job, threads);
      line = { id: job.id, ok: true, outputs };
    } catch (e) {
      line = { id: job && job.id, ok: false, error: oneLine(e && e.message !== undefined ? e.message : e) };
    }
    fs.writeSync(out, JSON.stringify(line) + '\n');
  }
  fs.closeSync(out);
}

if (require.main === module) {
  c.installFatalHandlers();
  main().catch(c.die);
}
