#!/usr/bin/env node
// Executor benchmark: median latency of edgefit's executor vs ONNX Runtime (CPU, node binding,
// default session optimizations), same machine, same thread count, same inputs, one run.
//   node bench/executor_vs_ort.js [--build build-bench] [--threads 1,2] [--quick]
// Prints a Markdown table with ours/ORT per model and the geometric mean, and the GFLOP/s of
// the largest ResNet18 conv against the machine's single-core peak.
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..');
const args = process.argv.slice(2);
const opt = { build: 'build-bench', threads: [1, 2], quick: false };
for (let i = 0; i < args.length; ++i) {
  if (args[i] === '--build') opt.build = args[++i];
  else if (args[i] === '--threads') opt.threads = args[++i].split(',').map(Number);
  else if (args[i] === '--quick') opt.quick = true;
  else { console.error(`unknown argument ${args[i]}`); process.exit(2); }
}
const build = path.resolve(root, opt.build);
const run = (cmd, argv, extra = {}) =>
  execFileSync(cmd, argv, { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26, ...extra });

run('cmake', ['-S', '.', '-B', build, '-G', 'Ninja', '-DCMAKE_BUILD_TYPE=Release',
              '-DEDGEFIT_BUILD_BENCH=ON', '-DEDGEFIT_BUILD_TESTS=OFF']);
// -j 2: the development machines are shared.
run('cmake', ['--build', build, '-j', '2', '--target', 'executor_bench', 'make_zoo_models']);
run(path.join(root, 'tools/ort/setup.sh'), []);

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'edgefit-bench-'));
run(path.join(build, 'bench/make_zoo_models'), [work]);

const fixtures = ['rppg_dyn_op14', 'rppg_clean_op14', 'hrnet_like_op12_dyn', 'mobilenet_like_op13'];
const models = fixtures.map((f) => ({
  name: f,
  file: path.join(root, 'tests/fixtures', `${f}.onnx`),
  input: path.join(root, 'tests/fixtures', `${f}.input.npy`),
}));
for (const z of ['mobilenet_v2', 'resnet18', 'largest_conv'])
  models.push({ name: z, file: path.join(work, `${z}.onnx`), input: null });

const reps = opt.quick ? 3 : 7;
const minTime = opt.quick ? '0.2' : '1.0';
const ortIters = opt.quick ? 10 : 40;

function oursMedianMs(model, threads) {
  const argv = ['--model', model.file, '--threads', String(threads),
                '--benchmark_format=json', `--benchmark_repetitions=${reps}`,
                '--benchmark_report_aggregates_only=true', `--benchmark_min_time=${minTime}`];
  if (model.input) argv.push('--input', `input=${model.input}`);
  const out = JSON.parse(run(path.join(build, 'bench/executor_bench'), argv, { stdio: ['ignore', 'pipe', 'inherit'] }));
  const med = out.benchmarks.find((b) => b.aggregate_name === 'median');
  if (!med || med.error_occurred) throw new Error(`edgefit failed on ${model.name}: ${med && med.error_message}`);
  return med.real_time;  // ms (Unit kMillisecond)
}

function ortMedianMs(model, threads) {
  const argv = [path.join(root, 'tools/ort/ort_bench.js'), model.file, '--threads', String(threads),
                '--warmup', '5', '--iters', String(ortIters)];
  if (model.input) argv.push('--input', `input=${model.input}`);
  return JSON.parse(run('node', argv)).median_ms;
}

function singleCorePeakGflops() {
  const info = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const mhz = Number((info.match(/cpu MHz\s*:\s*([\d.]+)/) || [])[1] || 0);
  const flags = (info.match(/flags\s*:\s*(.*)/) || [])[1] || '';
  const model = ((info.match(/model name\s*:\s*(.*)/) || [])[1] || 'unknown').trim();
  // FP32 FLOPs per cycle per core: two FMA pipes x vector width x 2 (multiply + add).
  const perCycle = /\bavx512f\b/.test(flags) ? 64 : (/\bfma\b/.test(flags) && /\bavx2\b/.test(flags)) ? 32 : 8;
  return { model, mhz, perCycle, gflops: (mhz / 1000) * perCycle };
}

// Other work on the machine skews wall-clock figures: the load average is printed with them.
const loadStart = os.loadavg();
const rows = [];
for (const t of opt.threads) {
  for (const m of models) {
    const ours = oursMedianMs(m, t);
    const ort = ortMedianMs(m, t);
    rows.push({ model: m.name, threads: t, ours, ort, ratio: ours / ort });
    console.error(`${m.name} threads=${t}: edgefit ${ours.toFixed(3)} ms, ORT ${ort.toFixed(3)} ms`);
  }
}
console.log('| model | threads | edgefit ms | ORT ms | edgefit/ORT |');
console.log('|---|---:|---:|---:|---:|');
for (const r of rows)
  console.log(`| ${r.model} | ${r.threads} | ${r.ours.toFixed(3)} | ${r.ort.toFixed(3)} | ${r.ratio.toFixed(2)} |`);
for (const t of opt.threads) {
  const rs = rows.filter((r) => r.threads === t);
  const geo = Math.exp(rs.reduce((s, r) => s + Math.log(r.ratio), 0) / rs.length);
  console.log(`\ngeometric mean edgefit/ORT, ${t} thread(s): ${geo.toFixed(3)}`);
}
const conv = rows.find((r) => r.model === 'largest_conv' && r.threads === 1);
if (conv) {
  const flops = 2 * 64 * 64 * 9 * 56 * 56;  // 3x3 conv, 64->64 channels, 56x56 output
  const peak = singleCorePeakGflops();
  const reached = flops / (conv.ours / 1000) / 1e9;
  console.log(`\nlargest conv (3x3, 64->64, 56x56; ${(flops / 1e6).toFixed(0)} MFLOP), 1 thread: ` +
              `${reached.toFixed(1)} GFLOP/s = ${(100 * reached / peak.gflops).toFixed(0)}% of the ` +
              `single-core peak ${peak.gflops.toFixed(1)} GFLOP/s (${peak.model}, ${peak.mhz} MHz x ` +
              `${peak.perCycle} FLOP/cycle)`);
}
const loadEnd = os.loadavg();
console.log(`\nload average (1/5/15 min) at start: ${loadStart.map((l) => l.toFixed(2)).join(' ')}, ` +
            `at end: ${loadEnd.map((l) => l.toFixed(2)).join(' ')}; ${os.cpus().length} CPUs`);
fs.rmSync(work, { recursive: true, force: true });
