// What the TF.js scripts of this folder share: a seeded PRNG for reproducible data, and .npy
// files (format version 1.0, little-endian float32, C order) to hand tensors to the C++ tests.
import * as fs from 'node:fs';
import * as path from 'node:path';

import * as tf from '@tensorflow/tfjs';

// ---- deterministic data --------------------------------------------------------------------

// mulberry32: a tiny seeded PRNG, so the cases are reproducible.
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function uniform(next, shape, lo = -1, hi = 1) {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; ++i) v[i] = lo + (hi - lo) * next();
  return tf.tensor(v, shape, 'float32');
}

// ---- .npy writer (format version 1.0, '<f4', C order) --------------------------------------

export function npyBytes(shape, data) {
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  const unpadded = 10 + header.length + 1;  // magic + version + length, header, newline
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const buf = Buffer.alloc(10 + header.length + 4 * data.length);
  buf.write('\x93NUMPY', 0, 'latin1');
  buf.writeUInt8(1, 6);
  buf.writeUInt8(0, 7);
  buf.writeUInt16LE(header.length, 8);
  buf.write(header, 10, 'latin1');
  let o = 10 + header.length;
  for (const v of data) {
    buf.writeFloatLE(v, o);
    o += 4;
  }
  return buf;
}

export function writeNpy(dir, name, t) {
  fs.writeFileSync(path.join(dir, `${name}.npy`), npyBytes(t.shape, t.dataSync()));
}

// Reads a file written by writeNpy or by numpy.save of a little-endian float32 C-order array.
export function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${file}: not an .npy file`);
  const major = buf.readUInt8(6);
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + headerLen);
  if (!header.includes("'descr': '<f4'") || header.includes("'fortran_order': True"))
    throw new Error(`${file}: expected little-endian float32 in C order, got ${header}`);
  const m = header.match(/'shape': \(([^)]*)\)/);
  const shape = m[1].split(',').map((v) => v.trim()).filter((v) => v !== '').map(Number);
  const offset = start + headerLen;
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; ++i) data[i] = buf.readFloatLE(offset + 4 * i);
  return tf.tensor(data, shape, 'float32');
}
