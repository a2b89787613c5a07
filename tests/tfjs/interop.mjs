// Models moving between TensorFlow.js 4.22 (pure-JS CPU backend) and tapeflow, in the TF.js
// Layers format (model.json + weights.bin). Run from anywhere:
//
//   node interop.mjs make <dir>    builds models in TF.js with seeded weights and saves each in
//                                  <dir>/<model>/: model.json, weights.bin, inputs x0.npy, ...
//                                  and TF.js' predictions y0.npy, ... (tests/data/tfjs_models is
//                                  this output; tapeflow loads each and must predict the same)
//   node interop.mjs check <dir>   loads each model tapeflow wrote in <dir>/<model>/ with
//                                  tf.loadLayersModel, checks every weight against weights/N.npy
//                                  (manifest order) and, unless a file weights_only is there,
//                                  its predictions on x0.npy, ... against tapeflow's y0.npy, ...
//
// `check` prints one line per model and exits non-zero if any differs by more than 1e-5
// (relative to the magnitude, for values above 1).
import * as fs from 'node:fs';
import * as path from 'node:path';

import * as tf from '@tensorflow/tfjs';

import { readNpy, rng, uniform, writeNpy } from './util.mjs';

const L = tf.layers;
const kTolerance = 1e-5;

// ---- the TF.js Layers format on disk ---------------------------------------------------------

function saveHandler(dir) {
  return tf.io.withSaveHandler(async (artifacts) => {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.from(artifacts.weightData));
    const json = {
      format: artifacts.format,
      generatedBy: artifacts.generatedBy,
      convertedBy: artifacts.convertedBy,
      modelTopology: artifacts.modelTopology,
      weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
    };
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  });
}

// What tf.io.http / file:// do: every group's shards concatenated, the specs in manifest order.
function loadHandler(jsonPath) {
  return {
    load: async () => {
      const j = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
      const dir = path.dirname(jsonPath);
      const specs = [];
      const buffers = [];
      for (const group of j.weightsManifest) {
        for (const p of group.paths) buffers.push(fs.readFileSync(path.join(dir, p)));
        specs.push(...group.weights);
      }
      const all = Buffer.concat(buffers);
      return {
        modelTopology: j.modelTopology,
        weightSpecs: specs,
        weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
        format: j.format,
        generatedBy: j.generatedBy,
        convertedBy: j.convertedBy,
      };
    },
  };
}

// ---- the models ------------------------------------------------------------------------------

// A small 3-D U-Net: the layers of tapeflow's unet3d example.
function unet3d() {
  const x = tf.input({ shape: [8, 8, 8, 1], name: 'volume' });
  const conv = (f, k, act, t) =>
    L.conv3d({ filters: f, kernelSize: k, padding: 'same', activation: act }).apply(t);
  const c1 = conv(4, 3, 'relu', conv(4, 3, 'relu', x));
  const p1 = L.maxPooling3d({ poolSize: 2 }).apply(c1);
  const c2 = conv(8, 3, 'relu', p1);
  const u1 = L.conv3dTranspose({ filters: 4, kernelSize: 2, strides: 2 }).apply(c2);
  const m1 = L.concatenate().apply([u1, c1]);
  const y = conv(1, 1, 'sigmoid', conv(4, 3, 'relu', m1));
  return { model: tf.model({ inputs: x, outputs: y, name: 'unet3d' }), inputs: [[2, 8, 8, 8, 1]] };
}

function classifier() {
  const model = tf.sequential({ name: 'classifier' });
  model.add(L.dense({ units: 16, activation: 'relu', inputShape: [10] }));
  model.add(L.dropout({ rate: 0.25 }));
  model.add(L.dense({ units: 8, activation: 'tanh', kernelRegularizer: tf.regularizers.l2({ l2: 0.01 }) }));
  model.add(L.dense({ units: 3, activation: 'softmax', kernelConstraint: tf.constraints.maxNorm({ maxValue: 2 }) }));
  return { model, inputs: [[4, 10]] };
}

function twoInTwoOut() {
  const a = tf.input({ shape: [6], name: 'features' });
  const b = tf.input({ shape: [4], name: 'context' });
  const ha = L.dense({ units: 8, activation: 'relu' }).apply(a);
  const hb = L.dense({ units: 8, activation: 'elu' }).apply(b);
  const cls = L.dense({ units: 2, activation: 'softmax', name: 'label' })
                  .apply(L.concatenate().apply([ha, hb]));
  const value = L.dense({ units: 1, name: 'score' }).apply(L.add().apply([ha, hb]));
  return {
    model: tf.model({ inputs: [a, b], outputs: [cls, value], name: 'two_in_two_out' }),
    inputs: [[3, 6], [3, 4]],
  };
}

// The 2-D zoo layers TF.js has, in one functional model.
function zoo2d() {
  const x = tf.input({ shape: [8, 8, 3] });
  let t = L.zeroPadding2d({ padding: [[1, 0], [2, 1]] }).apply(x);
  t = L.conv2d({ filters: 4, kernelSize: 3, dilationRate: 1, kernelInitializer: 'heNormal' }).apply(t);
  t = L.batchNormalization({ momentum: 0.9, epsilon: 1e-3 }).apply(t);
  t = L.leakyReLU({ alpha: 0.2 }).apply(t);
  t = L.cropping2D({ cropping: [[1, 0], [0, 1]] }).apply(t);
  t = L.upSampling2d({ size: [2, 2] }).apply(t);
  t = L.averagePooling2d({ poolSize: 2 }).apply(t);
  t = L.conv2dTranspose({ filters: 3, kernelSize: 3, strides: 2, padding: 'same' }).apply(t);
  t = L.maxPooling2d({ poolSize: 2, strides: 2, padding: 'same' }).apply(t);
  t = L.layerNormalization({ axis: -1 }).apply(t);
  t = L.prelu({ sharedAxes: [1, 2] }).apply(t);
  t = L.activation({ activation: 'tanh' }).apply(t);
  const g = L.globalAveragePooling2d({}).apply(t);
  const gm = L.globalMaxPooling2d({}).apply(t);
  t = L.permute({ dims: [2, 1, 3] }).apply(t);
  t = L.reshape({ targetShape: [48, 3] }).apply(t);
  t = L.flatten().apply(t);
  const y = L.dense({ units: 4, activation: 'sigmoid' }).apply(L.concatenate().apply([t, g, gm]));
  return { model: tf.model({ inputs: x, outputs: y, name: 'zoo2d' }), inputs: [[2, 8, 8, 3]] };
}

// The 1-D layers and Embedding (token ids given as floats, as tapeflow takes them).
function zoo1d() {
  const seq = tf.input({ shape: [12, 3], name: 'sequence' });
  const ids = tf.input({ shape: [5], name: 'tokens' });
  let s = L.conv1d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(seq);
  s = L.maxPooling1d({ poolSize: 2 }).apply(s);
  s = L.averagePooling1d({ poolSize: 2 }).apply(s);
  const sMax = L.globalMaxPooling1d().apply(s);
  const e = L.embedding({ inputDim: 10, outputDim: 4 }).apply(ids);
  const eMean = L.globalAveragePooling1d().apply(e);
  const y = L.dense({ units: 2 }).apply(L.concatenate().apply([sMax, eMean]));
  return { model: tf.model({ inputs: [seq, ids], outputs: y, name: 'zoo1d' }), inputs: [[2, 12, 3], [2, 5]],
           integerInputs: [false, true] };
}

const kModels = { unet3d, classifier, two_in_two_out: twoInTwoOut, zoo2d, zoo1d };

// Seeded weights (not the initializers': those differ between TF.js and tapeflow); variances > 0.
function setWeights(model, seed) {
  const next = rng(seed);
  model.setWeights(model.weights.map((w) =>
    /moving_variance/.test(w.originalName) ? uniform(next, w.shape, 0.5, 1.5)
                                           : uniform(next, w.shape, -0.5, 0.5)));
}

function makeInputs(spec, seed) {
  const next = rng(seed);
  return spec.inputs.map((shape, i) => {
    if (!spec.integerInputs?.[i]) return uniform(next, shape);
    const n = shape.reduce((a, b) => a * b, 1);
    return tf.tensor(Float32Array.from({ length: n }, () => Math.floor(next() * 10)), shape);
  });
}

function predictList(model, xs) {
  const y = model.predict(xs.length === 1 ? xs[0] : xs);
  return Array.isArray(y) ? y : [y];
}

// The classifier again, its weights stored quantized as tensorflowjs_converter writes them.
function float32ToFloat16(v) {
  const f = new Float32Array([v]);
  const u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = ((u >>> 23) & 0xff) - 127 + 15;
  const mant = u & 0x7fffff;
  if (exp <= 0) return sign | (exp < -10 ? 0 : ((mant | 0x800000) >>> (1 - exp + 13)));
  if (exp >= 31) return sign | 0x7c00;
  return sign | (exp << 10) | (mant >>> 13);
}

function writeQuantized(srcDir, dstDir, dtype) {
  const j = JSON.parse(fs.readFileSync(path.join(srcDir, 'model.json'), 'utf8'));
  const raw = fs.readFileSync(path.join(srcDir, 'weights.bin'));
  const parts = [];
  let offset = 0;
  for (const spec of j.weightsManifest[0].weights) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const v = Array.from({ length: n }, (_, i) => raw.readFloatLE(offset + 4 * i));
    offset += 4 * n;
    if (dtype === 'float16') {
      const b = Buffer.alloc(2 * n);
      v.forEach((x, i) => b.writeUInt16LE(float32ToFloat16(x), 2 * i));
      spec.quantization = { dtype };
      parts.push(b);
      continue;
    }
    const levels = dtype === 'uint8' ? 255 : 65535;
    const min = Math.min(...v), max = Math.max(...v);
    const scale = max > min ? (max - min) / levels : 1;
    const b = Buffer.alloc((dtype === 'uint8' ? 1 : 2) * n);
    v.forEach((x, i) => {
      const q = Math.round((x - min) / scale);
      if (dtype === 'uint8') b.writeUInt8(q, i); else b.writeUInt16LE(q, 2 * i);
    });
    spec.quantization = { dtype, scale, min, original_dtype: 'float32' };
    parts.push(b);
  }
  fs.mkdirSync(dstDir, { recursive: true });
  // Two shards, as the converter splits large groups: the loader must join them.
  const all = Buffer.concat(parts);
  const cut = Math.floor(all.length / 2);
  fs.writeFileSync(path.join(dstDir, 'group1-shard1of2.bin'), all.subarray(0, cut));
  fs.writeFileSync(path.join(dstDir, 'group1-shard2of2.bin'), all.subarray(cut));
  j.weightsManifest[0].paths = ['group1-shard1of2.bin', 'group1-shard2of2.bin'];
  fs.writeFileSync(path.join(dstDir, 'model.json'), JSON.stringify(j));
}

async function make(root) {
  let seed = 1;
  for (const [name, build] of Object.entries(kModels)) {
    const spec = build();
    setWeights(spec.model, 1000 + seed);
    const dir = path.join(root, name);
    fs.rmSync(dir, { recursive: true, force: true });
    await spec.model.save(saveHandler(dir));
    const xs = makeInputs(spec, 2000 + seed++);
    xs.forEach((x, i) => writeNpy(dir, `x${i}`, x));
    predictList(spec.model, xs).forEach((y, i) => writeNpy(dir, `y${i}`, y));
  }
  for (const dtype of ['uint8', 'uint16', 'float16']) {
    const src = path.join(root, 'classifier');
    const dir = path.join(root, `classifier_${dtype}`);
    fs.rmSync(dir, { recursive: true, force: true });
    writeQuantized(src, dir, dtype);
    // TF.js' own dequantization gives the reference predictions.
    const model = await tf.loadLayersModel(loadHandler(path.join(dir, 'model.json')));
    const x = readNpy(path.join(src, 'x0.npy'));
    writeNpy(dir, 'x0', x);
    writeNpy(dir, 'y0', predictList(model, [x])[0]);
  }
  console.log(`interop: wrote ${Object.keys(kModels).length + 3} TF.js models under ${root}`);
}

function maxRelativeError(a, b) {
  const x = a.dataSync(), y = b.dataSync();
  if (x.length !== y.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < x.length; ++i)
    worst = Math.max(worst, Math.abs(x[i] - y[i]) / Math.max(1, Math.abs(y[i])));
  return worst;
}

async function check(root) {
  let failures = 0;
  const dirs = fs.readdirSync(root).filter((d) => fs.existsSync(path.join(root, d, 'model.json')));
  if (dirs.length === 0) throw new Error(`no model.json under ${root}`);
  for (const d of dirs.sort()) {
    const dir = path.join(root, d);
    const problems = [];
    let model;
    try {
      model = await tf.loadLayersModel(loadHandler(path.join(dir, 'model.json')));
    } catch (e) {
      problems.push(`tf.loadLayersModel failed: ${e.message}`);
    }
    if (model) {
      const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'))
                           .weightsManifest[0].weights;
      manifest.forEach((spec, i) => {
        const w = model.weights.find((v) => v.originalName === spec.name);
        if (!w) { problems.push(`weight ${spec.name} is not in the TF.js model`); return; }
        const err = maxRelativeError(w.read(), readNpy(path.join(dir, 'weights', `${i}.npy`)));
        if (!(err === 0)) problems.push(`weight ${spec.name} differs by ${err}`);
      });
      if (model.weights.length !== manifest.length)
        problems.push(`TF.js has ${model.weights.length} weights, the manifest ${manifest.length}`);
      if (!fs.existsSync(path.join(dir, 'weights_only'))) {
        const xs = [];
        for (let i = 0; fs.existsSync(path.join(dir, `x${i}.npy`)); ++i) xs.push(readNpy(path.join(dir, `x${i}.npy`)));
        predictList(model, xs).forEach((y, i) => {
          const err = maxRelativeError(y, readNpy(path.join(dir, `y${i}.npy`)));
          if (!(err <= kTolerance)) problems.push(`output ${i} differs by ${err}`);
        });
      }
    }
    failures += problems.length ? 1 : 0;
    console.log(`interop: ${d}: ${problems.length ? 'FAIL ' + problems.join('; ') : 'ok'}`);
  }
  if (failures) process.exit(1);
}

const [command, root] = process.argv.slice(2);
if (command === 'make' && root) await make(path.resolve(root));
else if (command === 'check' && root) await check(path.resolve(root));
else {
  console.error('usage: node interop.mjs make <dir> | check <dir>');
  process.exit(2);
}
