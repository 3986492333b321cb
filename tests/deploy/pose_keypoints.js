#!/usr/bin/env node
// Independent checks of `edgefit deploy --draw-image` for deploy_e2e.sh, sharing no code with
// edgefit's data or draw libraries:
//
//   node pose_keypoints.js input IMAGE.png PREPROCESS.json WIDTH HEIGHT OUT.npy
//     decodes the PNG itself (8-bit RGB/RGBA, not interlaced: node's zlib + the PNG filters),
//     resizes it bilinearly with half-pixel centres to WIDTH x HEIGHT and applies
//     (v * scale - mean) / std (docs/data.md), float32 steps as in the data library, and writes
//     the NCHW model input [1,3,HEIGHT,WIDTH] as .npy (for `edgefit run`).
//   node pose_keypoints.js png IMAGE.png
//     prints "WIDTHxHEIGHT" of a valid PNG (signature, IHDR, CRC-free structure, inflatable data).
//   node pose_keypoints.js check SUMMARY.json PANEL HEATMAPS.npy
//     decodes the heatmaps [1,K,h,w] of `edgefit run` (argmax, first maximum wins; a quarter
//     pixel toward the higher neighbour on each interior axis), maps them to the picture
//     ((x + 0.5) * image_w / w - 0.5) and compares with summary.json draw.panels[PANEL].
//     Prints the number of keypoints checked; exit 1 on any difference.
'use strict';

const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const { readNpy, writeNpy } = require(path.join(__dirname, '../../tools/ort/npy.js'));

function fail(msg) {
  process.stderr.write('pose_keypoints.js: ' + msg + '\n');
  process.exit(1);
}

function decodePng(file) {
  const b = fs.readFileSync(file);
  const sig = [137, 80, 78, 71, 13, 10, 26, 10];
  if (b.length < 33 || sig.some((v, i) => b[i] !== v)) fail(file + ': not a PNG');
  let pos = 8;
  let w = 0, h = 0, colorType = -1;
  const idat = [];
  while (pos + 8 <= b.length) {
    const len = b.readUInt32BE(pos);
    const type = b.toString('latin1', pos + 4, pos + 8);
    const data = b.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      w = data.readUInt32BE(0);
      h = data.readUInt32BE(4);
      colorType = data[9];
      if (data[8] !== 8 || (colorType !== 2 && colorType !== 6) || data[12] !== 0)
        fail(file + ': only 8-bit RGB/RGBA non-interlaced PNGs are supported');
    } else if (type === 'IDAT') {
      idat.push(data);
    } else if (type === 'IEND') {
      break;
    }
    pos += 12 + len;
  }
  if (!w || !h || !idat.length) fail(file + ': no IHDR or IDAT');
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const bpp = colorType === 6 ? 4 : 3;
  const stride = w * bpp;
  if (raw.length !== h * (stride + 1)) fail(file + ': wrong data size');
  const px = Buffer.alloc(h * stride);
  for (let y = 0; y < h; ++y) {
    const f = raw[y * (stride + 1)];
    for (let i = 0; i < stride; ++i) {
      const x = raw[y * (stride + 1) + 1 + i];
      const a = i >= bpp ? px[y * stride + i - bpp] : 0;
      const up = y > 0 ? px[(y - 1) * stride + i] : 0;
      const c = y > 0 && i >= bpp ? px[(y - 1) * stride + i - bpp] : 0;
      let p;
      if (f === 0) p = 0;
      else if (f === 1) p = a;
      else if (f === 2) p = up;
      else if (f === 3) p = (a + up) >> 1;
      else if (f === 4) {
        const q = a + up - c, pa = Math.abs(q - a), pb = Math.abs(q - up), pc = Math.abs(q - c);
        p = pa <= pb && pa <= pc ? a : pb <= pc ? up : c;
      } else fail(file + ': bad filter ' + f);
      px[y * stride + i] = (x + p) & 255;
    }
  }
  return { w, h, bpp, px };
}

function taps(inLen, outLen) {
  const t = [];
  for (let o = 0; o < outLen; ++o) {
    let src = (o + 0.5) * (inLen / outLen) - 0.5;
    src = Math.min(Math.max(src, 0), inLen - 1);
    const i0 = Math.floor(src);
    t.push({ i0, i1: Math.min(i0 + 1, inLen - 1), f: Math.fround(src - i0) });
  }
  return t;
}

function input(image, preFile, W, H, out) {
  const img = decodePng(image);
  const pre = JSON.parse(fs.readFileSync(preFile, 'utf8'));
  const scale = Math.fround(pre.scale === undefined ? 1 / 255 : pre.scale);
  const mean = (pre.mean || [0, 0, 0]).map(Math.fround);
  const std = (pre.std || [1, 1, 1]).map(Math.fround);
  if ((pre.layout || 'NCHW') !== 'NCHW' || (pre.color || 'RGB') !== 'RGB')
    fail('only NCHW RGB preprocessing is supported');
  const ys = taps(img.h, H), xs = taps(img.w, W);
  const data = new Float32Array(3 * H * W);
  const f = Math.fround;
  for (let y = 0; y < H; ++y) {
    for (let x = 0; x < W; ++x) {
      for (let k = 0; k < 3; ++k) {
        const at = (yy, xx) => img.px[(yy * img.w + xx) * img.bpp + k];
        const ty = ys[y], tx = xs[x];
        const top = f(at(ty.i0, tx.i0) + f(f(at(ty.i0, tx.i1) - at(ty.i0, tx.i0)) * tx.f));
        const bot = f(at(ty.i1, tx.i0) + f(f(at(ty.i1, tx.i1) - at(ty.i1, tx.i0)) * tx.f));
        const v = f(top + f(f(bot - top) * ty.f));
        data[(k * H + y) * W + x] = f(f(f(v * scale) - mean[k]) / std[k]);
      }
    }
  }
  writeNpy(out, 'float32', [1, 3, H, W], data);
}

function check(summaryFile, panel, npyFile) {
  const draw = JSON.parse(fs.readFileSync(summaryFile, 'utf8')).draw;
  if (!draw) fail(summaryFile + ': no "draw"');
  const kps = draw.panels[panel].keypoints;
  const hm = readNpy(npyFile);
  const [n, K, h, w] = hm.shape;
  if (n !== 1 || K !== kps.length) fail('heatmaps ' + hm.shape + ' vs ' + kps.length + ' keypoints');
  const iw = draw.image_width, ih = draw.image_height;
  for (let k = 0; k < K; ++k) {
    const v = (y, x) => hm.data[(k * h + y) * w + x];
    let bx = 0, by = 0;
    for (let y = 0; y < h; ++y)
      for (let x = 0; x < w; ++x)
        if (v(y, x) > v(by, bx)) { bx = x; by = y; }
    let x = bx, y = by;
    if (bx > 0 && bx < w - 1 && v(by, bx + 1) !== v(by, bx - 1)) x += v(by, bx + 1) > v(by, bx - 1) ? 0.25 : -0.25;
    if (by > 0 && by < h - 1 && v(by + 1, bx) !== v(by - 1, bx)) y += v(by + 1, bx) > v(by - 1, bx) ? 0.25 : -0.25;
    const ex = (x + 0.5) * iw / w - 0.5, ey = (y + 0.5) * ih / h - 0.5;
    const got = kps[k];
    if (Math.abs(got.x - ex) > 1e-3 || Math.abs(got.y - ey) > 1e-3 ||
        Math.abs(got.score - v(by, bx)) > 1e-4 * Math.max(1, Math.abs(v(by, bx))))
      fail(`panel ${panel} keypoint ${k} (${got.name}): summary (${got.x}, ${got.y}, ${got.score}), ` +
           `run output (${ex}, ${ey}, ${v(by, bx)})`);
  }
  console.log(K);
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'input' && args.length === 5) input(args[0], args[1], +args[2], +args[3], args[4]);
else if (mode === 'png' && args.length === 1) {
  const img = decodePng(args[0]);
  console.log(img.w + 'x' + img.h);
} else if (mode === 'check' && args.length === 3) check(args[0], +args[1], args[2]);
else fail('usage: see the header of this file');
