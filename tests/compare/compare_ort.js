#!/usr/bin/env node
// compare_ort.js REF.onnx TEST.onnx DATA.npy LABELS.npy COUNT STEP EDGEFIT.json
//
// Recomputes `edgefit compare --json` from ONNX Runtime's outputs, independently of edgefit:
// runs both models in ORT on the same COUNT samples edgefit used (sample i = row
// floor(i * T / COUNT) of DATA, as in docs/data.md), computes every number of
// docs/compare.md here, and checks edgefit's numbers against them.
//
// Tolerance (derived, not tuned): edgefit and ORT compute the INT8 model's outputs to within
// one output quantization step STEP per value (ties in requantization may round differently),
// and the FP32 model's to within float rounding (1e-5 of the largest |value|). Call
// delta = STEP + 1e-5 max|ref| the per-value bound. Then by the triangle inequality
//   |MAE_edgefit - MAE_ort|, |mean|, |max abs|, |RMSE|, |std| (of the difference, or of the
//   errors against labels) <= 2 delta        (each of ref and test moves by <= delta)
// SQNR: noise RMS moves by <= 2 delta, so SQNR may move by 20 log10((e + 2d) / (e - 2d)).
// Classification: a sample's top-1 can flip only where ORT's top two logits are within 2 delta
// (per model): the accuracy counts may differ by at most the number of such samples.
// Prints the worst observed differences; exit 1 on any violation.
'use strict';
const fs = require('fs');
const path = require('path');
const c = require(path.join(__dirname, '../../tools/ort/common.js'));
const npy = require(path.join(__dirname, '../../tools/ort/npy.js'));

async function main() {
  const [refPath, testPath, dataPath, labelsPath, countArg, stepArg, jsonPath] = process.argv.slice(2);
  const ort = c.loadOrt();
  const ref = await c.createSession(ort, refPath, 1);
  const test = await c.createSession(ort, testPath, 1);
  const data = npy.readNpy(dataPath);
  const labels = labelsPath === '-' ? null : npy.readNpy(labelsPath);
  const report = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
  const total = data.shape[0];
  const count = Math.min(Number(countArg), total);
  const step = Number(stepArg);
  const per = data.shape.slice(1).reduce((a, b) => a * b, 1);
  const inName = ref.inputNames[0];
  const outName = ref.outputNames[0];

  let n = 0, sd = 0, sd2 = 0, sabs = 0, maxAbs = 0, sr2 = 0, st2 = 0, srt = 0, maxRef = 0;
  let rAbs = 0, tAbs = 0, rSq = 0, tSq = 0, lcount = 0;
  let r1 = 0, t1 = 0, r5 = 0, t5 = 0, agree = 0;
  const gaps = [], gaps5 = [];  // per sample, min over models: top-1/top-2 and top-5/top-6 logit gaps
  const rows = [];
  for (let i = 0; i < count; ++i) {
    const row = count === total ? i : Math.floor((i * total) / count);
    rows.push(row);
    const x = new ort.Tensor('float32', data.data.slice(row * per, (row + 1) * per), [1, ...data.shape.slice(1)]);
    const a = (await ref.run({ [inName]: x }))[outName].data;
    const b = (await test.run({ [inName]: x }))[outName].data;
    for (let k = 0; k < a.length; ++k) {
      const d = b[k] - a[k];
      sd += d; sd2 += d * d; sabs += Math.abs(d); maxAbs = Math.max(maxAbs, Math.abs(d));
      sr2 += a[k] * a[k]; st2 += b[k] * b[k]; srt += a[k] * b[k];
      maxRef = Math.max(maxRef, Math.abs(a[k]));
    }
    n += a.length;
    if (labels && labels.dtype.startsWith('float')) {
      const lr = labels.data.length / labels.shape[0];
      for (let k = 0; k < lr; ++k) {
        const y = labels.data[row * lr + k];
        rAbs += Math.abs(a[k] - y); tAbs += Math.abs(b[k] - y);
        rSq += (a[k] - y) ** 2; tSq += (b[k] - y) ** 2;
      }
      lcount += lr;
    } else if (labels) {
      const y = Number(labels.data[row]);
      const order = (v) => Array.from(v.keys()).sort((p, q) => v[q] - v[p] || p - q);
      const oa = order(a), ob = order(b);
      r1 += oa[0] === y; t1 += ob[0] === y;
      r5 += oa.slice(0, 5).includes(y); t5 += ob.slice(0, 5).includes(y);
      agree += oa[0] === ob[0];
      gaps.push(Math.min(a[oa[0]] - a[oa[1]], b[ob[0]] - b[ob[1]]));
      gaps5.push(a.length > 5 ? Math.min(a[oa[4]] - a[oa[5]], b[ob[4]] - b[ob[5]]) : Infinity);
      lcount += 1;
    }
  }
  const delta = step + 1e-5 * maxRef;
  const tol = 2 * delta;
  const mean = sd / n;
  const ortOut = {
    mae: sabs / n, rmse: Math.sqrt(sd2 / n), max_abs: maxAbs, mean,
    std: Math.sqrt(Math.max(0, sd2 / n - mean * mean)),
    sqnr_db: 10 * Math.log10(sr2 / sd2), cosine: srt / Math.sqrt(sr2 * st2),
  };
  const ours = report.outputs[0];
  let ok = true;
  const check = (what, edgefit, ort, allowed) => {
    const diff = Math.abs(edgefit - ort);
    const pass = diff <= allowed;
    ok = ok && pass;
    console.log(`  ${pass ? 'ok  ' : 'FAIL'} ${what}: edgefit ${edgefit.toPrecision(7)} ORT ${ort.toPrecision(7)} |diff| ${diff.toExponential(2)} (allowed ${allowed.toExponential(2)})`);
  };
  if (report.samples !== count) { console.log(`FAIL: edgefit used ${report.samples} samples, expected ${count}`); ok = false; }
  console.log(`  per-value bound delta = step ${step} + 1e-5 * max|ref| ${maxRef.toPrecision(4)} = ${delta.toExponential(3)}`);
  for (const k of ['mae', 'rmse', 'max_abs', 'mean', 'std']) check(`output ${k}`, ours[k], ortOut[k], tol);
  const e = ortOut.rmse;
  const sqnrAllowed = e > tol ? 20 * Math.log10((e + tol) / (e - tol)) : Infinity;
  check('output sqnr_db', ours.sqnr_db, ortOut.sqnr_db, sqnrAllowed);
  // cosine = 1 - |d|^2 / (2 |r||t|) approximately: moves by <= (2 e tol + tol^2) / mean square.
  check('output cosine', ours.cosine, ortOut.cosine, (2 * e * tol + tol * tol) * n / Math.sqrt(sr2 * st2) + 1e-9);
  if (labels && report.task) {
    const t = report.task;
    if (t.task === 'regression') {
      check('reference MAE vs labels', t.reference.mae, rAbs / lcount, tol);
      check('test MAE vs labels', t.test.mae, tAbs / lcount, tol);
      check('reference RMSE vs labels', t.reference.rmse, Math.sqrt(rSq / lcount), tol);
      check('test RMSE vs labels', t.test.rmse, Math.sqrt(tSq / lcount), tol);
    } else {
      const close = gaps.filter((g) => g <= tol).length / lcount;
      const slack = close + 1e-12;
      check('reference top-1', t.reference.top1, r1 / lcount, slack);
      check('test top-1', t.test.top1, t1 / lcount, slack);
      const close5 = gaps5.filter((g) => g <= tol).length / lcount + 1e-12;
      check('reference top-5', t.reference.top5, r5 / lcount, close5);
      check('test top-5', t.test.top5, t5 / lcount, close5);
      check('agreement', t.agreement, agree / lcount, slack);
    }
  }
  process.exit(ok ? 0 : 1);
}
c.installFatalHandlers();
main().catch(c.die);
