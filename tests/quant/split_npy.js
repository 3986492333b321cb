#!/usr/bin/env node
// split_npy.js DATA.npy COUNT OUTDIR: writes the first COUNT samples of an [N, ...] array as
// OUTDIR/sample_<i>.npy with shape [1, ...] (one model input each).
'use strict';
const fs = require('fs');
const path = require('path');
const npy = require(path.join(__dirname, '../../tools/ort/npy.js'));
const [file, countArg, outDir] = process.argv.slice(2);
const a = npy.readNpy(file);
const count = Math.min(Number(countArg), a.shape[0]);
const per = a.shape.slice(1).reduce((x, y) => x * y, 1);
fs.mkdirSync(outDir, { recursive: true });
for (let i = 0; i < count; ++i)
  npy.writeNpy(path.join(outDir, `sample_${i}.npy`), a.dtype, [1, ...a.shape.slice(1)],
               a.data.slice(i * per, (i + 1) * per));
console.log(`${count} samples of ${JSON.stringify(a.shape.slice(1))} written to ${outDir}`);
