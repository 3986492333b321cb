#!/usr/bin/env node
// compare_npy.js A.npy B.npy [RTOL] [ATOL]: exit 0 when same dtype/shape and
// |a - b| <= atol + rtol * |b| element-wise (exact for integers); prints the largest difference.
'use strict';
const path = require('path');
const npy = require(path.join(__dirname, '../../tools/ort/npy.js'));
const [fa, fb, rtolArg, atolArg] = process.argv.slice(2);
const rtol = Number(rtolArg || 1e-4), atol = Number(atolArg || 1e-5);
const a = npy.readNpy(fa), b = npy.readNpy(fb);
if (a.dtype !== b.dtype || JSON.stringify(a.shape) !== JSON.stringify(b.shape)) {
  console.error(`${fa} vs ${fb}: ${a.dtype}${JSON.stringify(a.shape)} vs ${b.dtype}${JSON.stringify(b.shape)}`);
  process.exit(1);
}
let worst = 0, bad = 0;
for (let i = 0; i < a.data.length; ++i) {
  const x = Number(a.data[i]), y = Number(b.data[i]);
  const d = Math.abs(x - y);
  worst = Math.max(worst, d);
  if (!(d <= atol + rtol * Math.abs(y))) ++bad;
}
console.log(`${path.basename(fa)}: max abs diff ${worst.toExponential(3)}, ${bad} of ${a.data.length} outside tolerance`);
process.exit(bad ? 1 : 0);
