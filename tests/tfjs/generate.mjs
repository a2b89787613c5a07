// Generates the TensorFlow reference cases under tests/data/tfjs/<layer>/case_NNN/ with
// TensorFlow.js (the pinned version in package.json) on its pure-JS CPU backend, which follows
// TensorFlow/Keras semantics. Run from this folder: `npm install && node generate.mjs`.
//
// Each case: config.txt (key=value lines, see tests/data/tfjs/README.md) and little-endian
// float32 .npy files: x, the layer's weights in TF layout, y, an upstream gradient gy, and the
// gradients of L = sum(y * gy) (gx, gkernel, gbias, ggamma, gbeta). BatchNormalization in
// training mode also records the updated moving statistics.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

import * as tf from '@tensorflow/tfjs';

import { rng, uniform, writeNpy } from './util.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const outRoot = path.resolve(here, '../data/tfjs');

// ---- helpers -------------------------------------------------------------------------------

const list = (v) => (Array.isArray(v) ? v.join(',') : String(v));
const camel = (f) => (f === 'channels_first' ? 'channelsFirst' : 'channelsLast');
const tuple = (v, n) => (Array.isArray(v) ? v : Array(n).fill(v));
const factories = {
  Conv2D: tf.layers.conv2d,
  Conv3D: tf.layers.conv3d,
  Conv2DTranspose: tf.layers.conv2dTranspose,
  MaxPooling2D: tf.layers.maxPooling2d,
  MaxPooling3D: tf.layers.maxPooling3d,
  AveragePooling2D: tf.layers.averagePooling2d,
  AveragePooling3D: tf.layers.averagePooling3d,
};

// TF.js 4.22 pads 3-D `same` convolutions and pools by (out - 1) * s + k - in without TF's
// max(0, .), so it shifts the output when that is negative (kernel < stride with in divisible
// by the stride). Such cases would record TF.js' bug, not TF's rule: refuse them.
function checkSame3d(c) {
  if (c.padding !== 'same') return;
  const sp = c.data_format === 'channels_first' ? c.input_shape.slice(2) : c.input_shape.slice(1, 4);
  const k = tuple(c.kernel_size ?? c.pool_size, 3);
  const s = tuple(c.strides ?? c.pool_size, 3);
  for (let a = 0; a < 3; ++a) {
    const out = Math.ceil(sp[a] / s[a]);
    if ((out - 1) * s[a] + k[a] - sp[a] < 0)
      throw new Error(`3-D same case ${JSON.stringify(c)} hits the TF.js padding bug on axis ${a}`);
  }
}

// Runs one case: builds the layer, sets the weights, records y and every gradient of
// L = sum(y * gy) in one pass (so a training-mode BatchNormalization updates once).
function record(dir, layer, config, x, weights, gradNames, opts = {}) {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const next = rng(opts.seed * 7919 + 17);
  const apply = opts.apply ?? ((t, kw) => layer.apply(t, kw));
  apply(x);  // builds (inference mode: no statistics update)
  layer.setWeights(weights.map(([, t]) => t));
  const y0 = apply(x);
  const gy = uniform(next, y0.shape);
  const xv = tf.variable(x, true);
  const trainable = layer.trainableWeights.map((w) => w.read());
  const kwargs = opts.training === undefined ? {} : { training: opts.training };
  let y;
  const notes = [];
  const vars = opts.noGrad ? [] : [xv, ...trainable];
  if (opts.noGrad) {
    y = apply(x, kwargs);
  } else {
    const { grads } = tf.variableGrads(() => {
      y = tf.keep(apply(xv, kwargs));
      return tf.sum(tf.mul(y, gy));
    }, vars);
    let gx = grads[xv.name];
    if (opts.probeGx) {
      // The pooling gradients of TF.js 4.22 are wrong in places (see probedGx); use the
      // gradient read off its forward pass wherever the two differ.
      const probed = probedGx((t) => apply(t), x, gy, opts.probeGx);
      const a = gx.dataSync(), b = probed.dataSync();
      if (a.some((v, i) => Math.abs(v - b[i]) > 1e-5)) {
        gx = probed;
        notes.push(`reference=gx from the TF.js forward pass by ${opts.probeGx} probing ` +
                   `(TF.js 4.22's own gradient is wrong here: ${opts.probeWhy})`);
      }
    }
    writeNpy(dir, 'gx', gx);
    trainable.forEach((v, i) => writeNpy(dir, gradNames[i], grads[v.name]));
  }
  writeNpy(dir, 'x', x);
  for (const [name, t] of weights) writeNpy(dir, name, t);
  writeNpy(dir, 'y', y);
  writeNpy(dir, 'gy', gy);
  if (opts.training) {
    const w = layer.getWeights();
    writeNpy(dir, 'new_moving_mean', w[2]);
    writeNpy(dir, 'new_moving_variance', w[3]);
  }
  const lines = Object.entries({ ...config, output_shape: y.shape })
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${list(v)}`);
  if (opts.note) lines.push(`note=${opts.note}`);
  lines.push(...notes);
  fs.writeFileSync(path.join(dir, 'config.txt'), lines.join('\n') + '\n');
  xv.dispose();
}

// The gradient of L = sum(f(x) * gy) for a pooling f, computed from f's forward pass alone:
// - 'linear' (average pooling): gx[i] = sum(f(e_i) * gy), exact for a linear f.
// - 'argmax' (max pooling): f(x + h e_i) - f(x) is h exactly where x[i] is a window's maximum
//   and 0 elsewhere (h = 2^-18 is exact in float32 for |x| < 32; a ratio that is not 0 or 1
//   means a near tie, which is refused).
// TF.js 4.22's CPU gradients break TF's rules in two places: AvgPoolGrad/AvgPool3DGrad divide
// by the full window size even where a `same` window is clipped (TF divides by the clipped
// count, as the forward pass does), and maxPool3dPositions flattens the window position with
// the filter height instead of its width, so MaxPool3DGrad misroutes when height != width.
function probedGx(f, x, gy, mode) {
  const xs = x.dataSync(), g = gy.dataSync();
  const h = 2 ** -18;
  const y0 = f(x).dataSync();
  const out = new Float32Array(xs.length);
  for (let i = 0; i < xs.length; ++i) {
    const v = mode === 'linear' ? new Float32Array(xs.length) : Float32Array.from(xs);
    if (mode === 'linear') v[i] = 1;
    else v[i] += h;
    const y = f(tf.tensor(v, x.shape, 'float32')).dataSync();
    let s = 0;
    for (let o = 0; o < y.length; ++o) {
      let d = y[o];
      if (mode !== 'linear') {
        d = (y[o] - y0[o]) / h;
        if (d !== 0 && d !== 1) throw new Error(`near tie in max pooling at input ${i}: ${d}`);
      }
      s += d * g[o];
    }
    out[i] = s;
  }
  return tf.tensor(out, x.shape, 'float32');
}

const caseDir = (folder, i) => path.join(outRoot, folder, `case_${String(i).padStart(3, '0')}`);

// ---- cases ---------------------------------------------------------------------------------

function convCases(folder, className, rank, cases) {
  cases.forEach((c, i) => {
    const seed = 1000 * rank + 100 * (className.length % 7) + i;
    const next = rng(seed);
    const cfg = {
      layer: className,
      filters: c.filters,
      kernel_size: tuple(c.kernel_size, rank),
      strides: tuple(c.strides ?? 1, rank),
      padding: c.padding,
      data_format: c.data_format ?? 'channels_last',
      dilation_rate: className.endsWith('Transpose') ? undefined : tuple(c.dilation_rate ?? 1, rank),
      activation: c.activation ?? 'linear',
      use_bias: c.use_bias ?? true,
      input_shape: c.input_shape,
    };
    if (rank === 3) checkSame3d(cfg);
    const args = {
      filters: cfg.filters,
      kernelSize: cfg.kernel_size,
      strides: cfg.strides,
      padding: cfg.padding,
      dataFormat: camel(cfg.data_format),
      activation: cfg.activation,
      useBias: cfg.use_bias,
    };
    if (cfg.dilation_rate) args.dilationRate = cfg.dilation_rate;
    const layer = factories[className](args);
    const cin = cfg.data_format === 'channels_first' ? c.input_shape[1] : c.input_shape.at(-1);
    const kshape = className.endsWith('Transpose')
      ? [...cfg.kernel_size, cfg.filters, cin]
      : [...cfg.kernel_size, cin, cfg.filters];
    const x = uniform(next, c.input_shape);
    const weights = [['kernel', uniform(next, kshape, -0.5, 0.5)]];
    if (cfg.use_bias) weights.push(['bias', uniform(next, [cfg.filters], -0.5, 0.5)]);
    record(caseDir(folder, i), layer, cfg, x, weights, ['gkernel', 'gbias'], {
      seed,
      noGrad: c.noGrad,
      note: c.noGrad ? 'forward only: TF.js has no gradient for dilation > 1' : undefined,
    });
  });
}

// DepthwiseConv2D and SeparableConv2D (TF.js has no 1-D forms, nor conv groups): weights
// depthwise_kernel (kh, kw, in, depth_multiplier), for the separable layer pointwise_kernel
// (1, 1, in * depth_multiplier, filters), and bias.
function depthwiseCases(folder, className, seedBase, cases) {
  cases.forEach((c, i) => {
    const seed = seedBase + i;
    const next = rng(seed);
    const separable = className === 'SeparableConv2D';
    const cfg = {
      layer: className,
      filters: separable ? c.filters : undefined,
      kernel_size: tuple(c.kernel_size, 2),
      strides: tuple(c.strides ?? 1, 2),
      padding: c.padding,
      depth_multiplier: c.depth_multiplier ?? 1,
      data_format: c.data_format ?? 'channels_last',
      dilation_rate: tuple(c.dilation_rate ?? 1, 2),
      activation: c.activation ?? 'linear',
      use_bias: c.use_bias ?? true,
      input_shape: c.input_shape,
    };
    const args = {
      kernelSize: cfg.kernel_size,
      strides: cfg.strides,
      padding: cfg.padding,
      depthMultiplier: cfg.depth_multiplier,
      dataFormat: camel(cfg.data_format),
      dilationRate: cfg.dilation_rate,
      activation: cfg.activation,
      useBias: cfg.use_bias,
    };
    if (separable) args.filters = cfg.filters;
    const layer = separable ? tf.layers.separableConv2d(args) : tf.layers.depthwiseConv2d(args);
    const cin = cfg.data_format === 'channels_first' ? c.input_shape[1] : c.input_shape.at(-1);
    const x = uniform(next, c.input_shape);
    const dm = cfg.depth_multiplier;
    const weights = [['depthwise_kernel', uniform(next, [...cfg.kernel_size, cin, dm], -0.5, 0.5)]];
    if (separable)
      weights.push(['pointwise_kernel', uniform(next, [1, 1, cin * dm, cfg.filters], -0.5, 0.5)]);
    if (cfg.use_bias)
      weights.push(['bias', uniform(next, [separable ? cfg.filters : cin * dm], -0.5, 0.5)]);
    const gradNames = separable ? ['gdepthwise_kernel', 'gpointwise_kernel', 'gbias']
                                : ['gdepthwise_kernel', 'gbias'];
    record(caseDir(folder, i), layer, cfg, x, weights, gradNames, {
      seed,
      noGrad: c.noGrad,
      note: c.noGrad ? 'forward only: TF.js has no gradient for dilation > 1' : undefined,
    });
  });
}

function poolCases(folder, className, rank, cases) {
  cases.forEach((c, i) => {
    const seed = 5000 + 100 * rank + 10 * className.length + i;
    const cfg = {
      layer: className,
      pool_size: tuple(c.pool_size, rank),
      strides: tuple(c.strides ?? c.pool_size, rank),
      padding: c.padding,
      data_format: c.data_format ?? 'channels_last',
      input_shape: c.input_shape,
    };
    if (rank === 3) checkSame3d(cfg);
    const layer = factories[className]({
      poolSize: cfg.pool_size,
      strides: cfg.strides,
      padding: cfg.padding,
      dataFormat: camel(cfg.data_format),
    });
    const x = uniform(rng(seed), c.input_shape);
    const max = className.startsWith('Max');
    record(caseDir(folder, i), layer, cfg, x, [], [], {
      seed,
      probeGx: max ? 'argmax' : 'linear',
      probeWhy: max ? 'MaxPool3DGrad misroutes when the pool height differs from its width'
                    : 'its AvgPoolGrad divides by the full window where a same window is clipped',
    });
  });
}

function batchNormCases(cases) {
  cases.forEach((c, i) => {
    const seed = 7000 + i;
    const next = rng(seed);
    const ch = c.input_shape.at(c.axis);
    const cfg = {
      layer: 'BatchNormalization',
      axis: c.axis,
      momentum: c.momentum ?? 0.99,
      epsilon: c.epsilon ?? 0.001,
      training: c.training,
      input_shape: c.input_shape,
    };
    // TF.js 4.22's batchNorm gradient fails when the channel axis is not last (it reshapes the
    // scale gradient to the broadcast shape), and its layer refuses rank 5. Such cases run the
    // same per-channel layer with the channel axis moved last and the other non-batch axes
    // merged into one, then undo both: the same function.
    const rank = c.input_shape.length;
    const axis = c.axis < 0 ? c.axis + rank : c.axis;
    const direct = axis === rank - 1 && rank <= 4;
    const layer = tf.layers.batchNormalization({
      axis: direct ? cfg.axis : -1,
      momentum: cfg.momentum,
      epsilon: cfg.epsilon,
    });
    const perm = [...Array(rank).keys()].filter((a) => a !== axis).concat([axis]);
    const inverse = perm.map((_, i) => perm.indexOf(i));
    const moved = perm.map((a) => c.input_shape[a]);
    const apply = direct ? undefined : (t, kw) => {
      const t3 = tf.reshape(tf.transpose(t, perm), [moved[0], -1, ch]);
      return tf.transpose(tf.reshape(layer.apply(t3, kw), moved), inverse);
    };
    // A nonzero mean and a non-unit spread, so the statistics matter.
    const x = tf.add(tf.mul(uniform(next, c.input_shape), 2), 0.5);
    const weights = [
      ['gamma', uniform(next, [ch], 0.5, 1.5)],
      ['beta', uniform(next, [ch], -0.5, 0.5)],
      ['moving_mean', uniform(next, [ch], -0.5, 0.5)],
      ['moving_variance', uniform(next, [ch], 0.5, 1.5)],
    ];
    record(caseDir('batch_normalization', i), layer, cfg, x, weights, ['ggamma', 'gbeta'], {
      seed,
      training: c.training,
      apply,
      note: direct ? undefined
                  : `computed as axis -1 on the input transposed by ${perm} and reshaped to rank 3 for TF.js`,
    });
  });
}

function denseCases(cases) {
  cases.forEach((c, i) => {
    const seed = 9000 + i;
    const next = rng(seed);
    const cfg = {
      layer: 'Dense',
      units: c.units,
      activation: c.activation ?? 'linear',
      use_bias: c.use_bias ?? true,
      input_shape: c.input_shape,
    };
    const layer = tf.layers.dense({
      units: cfg.units,
      activation: cfg.activation,
      useBias: cfg.use_bias,
    });
    const x = uniform(next, c.input_shape);
    const weights = [['kernel', uniform(next, [c.input_shape.at(-1), c.units], -0.7, 0.7)]];
    if (cfg.use_bias) weights.push(['bias', uniform(next, [c.units], -0.5, 0.5)]);
    record(caseDir('dense', i), layer, cfg, x, weights, ['gkernel', 'gbias'], { seed });
  });
}

// Layers without weights on one input: y and gx of L = sum(y * gy).
function weightlessCases(folder, className, factory, cases) {
  cases.forEach((c, i) => {
    const seed = 11000 + 100 * (className.length % 10) + i;
    const cfg = { layer: className, ...c.config, input_shape: c.input_shape };
    const x = uniform(rng(seed), c.input_shape, -3, 3);
    record(caseDir(folder, i), factory(c.args ?? {}), cfg, x, [], [], { seed });
  });
}

// Merge layers: inputs x0, x1, ... and their gradients gx0, gx1, ... of L = sum(y * gy).
// A case is a list of input shapes, or { shapes, config (Keras keys, written to config.txt),
// args (TF.js' names) } for a layer with options.
function mergeCases(folder, className, factory, cases) {
  cases.forEach((entry, i) => {
    const { shapes, config = {}, args } = Array.isArray(entry) ? { shapes: entry } : entry;
    const seed = 12000 + 100 * (className.length % 10) + i;
    const dir = caseDir(folder, i);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const next = rng(seed);
    const xs = shapes.map((s) => uniform(next, s));
    const layer = factory(args);
    const y = layer.apply(xs);
    const gy = uniform(next, y.shape);
    const vars = xs.map((x) => tf.variable(x, true));
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(vars), gy)), vars);
    xs.forEach((x, k) => writeNpy(dir, `x${k}`, x));
    vars.forEach((v, k) => writeNpy(dir, `gx${k}`, grads[v.name]));
    writeNpy(dir, 'y', y);
    writeNpy(dir, 'gy', gy);
    const lines = [`layer=${className}`, `inputs=${shapes.length}`,
                   ...shapes.map((s, k) => `input_shape${k}=${list(s)}`), `output_shape=${list(y.shape)}`,
                   ...Object.entries(config).map(([k, v]) => `${k}=${list(v)}`)];
    fs.writeFileSync(path.join(dir, 'config.txt'), lines.join('\n') + '\n');
    vars.forEach((v) => v.dispose());
  });
}

// Recurrent layers: SimpleRNN, LSTM, GRU and Bidirectional over one of them. The weights in
// Keras' layout (kernel, recurrent_kernel, bias; Bidirectional: forward_ then backward_), set on
// the layer; the gates' recurrent activation is sigmoid (Keras 3's default; TF.js defaults to
// hard sigmoid), and TF.js' GRU is Keras' reset_after=false. A case with `mask` records the
// (batch, time) mask as mask.npy and passes it to the call.
const rnnFactories = { SimpleRNN: tf.layers.simpleRNN, LSTM: tf.layers.lstm, GRU: tf.layers.gru };
const rnnGates = { SimpleRNN: 1, LSTM: 4, GRU: 3 };
function rnnCases(folder, className, cases) {
  cases.forEach((c, i) => {
    const seed = 13000 + 100 * (className.length % 10) + i;
    const next = rng(seed);
    const cell = c.rnn ?? className;
    const cfg = {
      layer: className,
      rnn: className === 'Bidirectional' ? cell : undefined,
      units: c.units,
      activation: c.activation ?? 'tanh',
      recurrent_activation: cell === 'SimpleRNN' ? undefined : 'sigmoid',
      use_bias: c.use_bias ?? true,
      reset_after: cell === 'GRU' ? false : undefined,
      return_sequences: c.return_sequences ?? false,
      go_backwards: c.go_backwards ?? false,
      merge_mode: className === 'Bidirectional' ? (c.merge_mode ?? 'concat') : undefined,
      masked: c.mask ? true : undefined,
      input_shape: c.input_shape,
    };
    const args = {
      units: cfg.units,
      activation: cfg.activation,
      useBias: cfg.use_bias,
      returnSequences: cfg.return_sequences,
      goBackwards: cfg.go_backwards,
    };
    if (cell !== 'SimpleRNN') args.recurrentActivation = 'sigmoid';
    if (cell === 'LSTM') args.unitForgetBias = false;
    const inner = rnnFactories[cell](args);
    const layer = className === 'Bidirectional'
      ? tf.layers.bidirectional({ layer: inner, mergeMode: cfg.merge_mode }) : inner;
    const x = uniform(next, c.input_shape);
    const g = rnnGates[cell] * c.units;
    const weights = [];
    const gradNames = [];
    for (const prefix of className === 'Bidirectional' ? ['forward_', 'backward_'] : ['']) {
      weights.push([`${prefix}kernel`, uniform(next, [c.input_shape.at(-1), g], -0.7, 0.7)]);
      weights.push([`${prefix}recurrent_kernel`, uniform(next, [c.units, g], -0.7, 0.7)]);
      if (cfg.use_bias) weights.push([`${prefix}bias`, uniform(next, [g], -0.5, 0.5)]);
    }
    for (const [name] of weights) gradNames.push(`g${name}`);
    const mask = c.mask ? tf.tensor(c.mask, c.mask.length ? [c.mask.length, c.mask[0].length] : [0], 'float32') : null;
    const apply = mask ? (t, kw) => layer.apply(t, { ...(kw ?? {}), mask }) : undefined;
    const dir = caseDir(folder, i);
    record(dir, layer, cfg, x, weights, gradNames, { seed, apply });
    if (mask) writeNpy(dir, 'mask', mask);
  });
}

await tf.setBackend('cpu');
await tf.ready();
if (tf.getBackend() !== 'cpu') throw new Error('the pure-JS cpu backend is required');

convCases('conv2d', 'Conv2D', 2, [
  { input_shape: [2, 5, 5, 3], filters: 4, kernel_size: 3, padding: 'valid' },
  { input_shape: [1, 6, 7, 2], filters: 3, kernel_size: [3, 2], strides: [2, 1], padding: 'same',
    activation: 'relu' },
  { input_shape: [2, 2, 6, 5], filters: 2, kernel_size: 3, strides: 2, padding: 'same',
    data_format: 'channels_first', activation: 'tanh' },
  { input_shape: [1, 7, 7, 2], filters: 3, kernel_size: 1, strides: 3, padding: 'same',
    data_format: 'channels_first', use_bias: false },
  { input_shape: [1, 3, 6, 5], filters: 2, kernel_size: [2, 3], strides: [1, 2], padding: 'valid',
    data_format: 'channels_first', activation: 'sigmoid' },
  { input_shape: [1, 6, 6, 2], filters: 2, kernel_size: 2, dilation_rate: 2, padding: 'same',
    depth_multiplier: 2, noGrad: true },
]);

convCases('conv3d', 'Conv3D', 3, [
  { input_shape: [1, 4, 4, 4, 2], filters: 3, kernel_size: 3, padding: 'valid' },
  { input_shape: [2, 4, 5, 3, 2], filters: 2, kernel_size: [2, 3, 2], strides: [2, 2, 1],
    padding: 'same', activation: 'relu' },
  { input_shape: [1, 2, 3, 4, 4], filters: 2, kernel_size: 2, strides: 2, padding: 'valid',
    data_format: 'channels_first' },
  { input_shape: [1, 5, 5, 5, 1], filters: 2, kernel_size: 3, strides: 2, padding: 'same',
    use_bias: false },
  { input_shape: [1, 2, 5, 4, 3], filters: 3, kernel_size: [1, 2, 3], strides: [1, 2, 1],
    padding: 'same', data_format: 'channels_first', activation: 'tanh' },
]);

convCases('conv2d_transpose', 'Conv2DTranspose', 2, [
  { input_shape: [1, 3, 3, 2], filters: 3, kernel_size: 3, strides: 2, padding: 'same' },
  { input_shape: [2, 3, 4, 2], filters: 2, kernel_size: [2, 3], strides: [2, 1], padding: 'valid',
    activation: 'relu' },
  { input_shape: [1, 2, 3, 3], filters: 2, kernel_size: 3, strides: 1, padding: 'same',
    data_format: 'channels_first' },
  { input_shape: [1, 2, 3, 1], filters: 2, kernel_size: 2, strides: 3, padding: 'valid',
    use_bias: false },
  { input_shape: [1, 2, 3, 2], filters: 2, kernel_size: [1, 3], strides: 2, padding: 'same',
    data_format: 'channels_first', activation: 'tanh' },
]);

depthwiseCases('depthwise_conv2d', 'DepthwiseConv2D', 14000, [
  { input_shape: [2, 5, 5, 3], kernel_size: 3, padding: 'valid' },
  { input_shape: [1, 6, 7, 2], kernel_size: [3, 2], strides: [2, 1], padding: 'same',
    depth_multiplier: 2, activation: 'relu' },
  { input_shape: [2, 2, 6, 5], kernel_size: 3, strides: 2, padding: 'same', depth_multiplier: 3,
    data_format: 'channels_first', activation: 'tanh' },
  { input_shape: [1, 5, 6, 2], kernel_size: [2, 3], padding: 'valid', depth_multiplier: 2,
    use_bias: false },
  // TF.js 4.22's DepthwiseConv2D layer ignores dilation_rate (it passes no dilation to its
  // op), so the dilated depthwise step is checked through SeparableConv2D below.
  { input_shape: [1, 7, 6, 2], kernel_size: 3, strides: 2, padding: 'valid', depth_multiplier: 2,
    activation: 'sigmoid' },
]);

depthwiseCases('separable_conv2d', 'SeparableConv2D', 14500, [
  { input_shape: [2, 5, 5, 3], filters: 4, kernel_size: 3, padding: 'valid' },
  { input_shape: [1, 6, 7, 2], filters: 3, kernel_size: [3, 2], strides: [2, 1], padding: 'same',
    depth_multiplier: 2, activation: 'relu' },
  // TF.js 4.22's separableConv2d adds the bias in the wrong layout for channels_first (it fails
  // to broadcast), so its channels_first form is checked against loops in tests/layers only.
  { input_shape: [2, 6, 5, 2], filters: 2, kernel_size: 3, strides: 2, padding: 'same',
    activation: 'tanh' },
  { input_shape: [1, 5, 6, 2], filters: 3, kernel_size: [2, 3], padding: 'valid',
    depth_multiplier: 3, use_bias: false },
  { input_shape: [1, 6, 6, 2], filters: 2, kernel_size: 2, dilation_rate: 2, padding: 'same',
    depth_multiplier: 2, noGrad: true },
]);

for (const [folder, className] of [['max_pooling2d', 'MaxPooling2D'],
                                   ['average_pooling2d', 'AveragePooling2D']]) {
  poolCases(folder, className, 2, [
    { input_shape: [1, 4, 4, 2], pool_size: 2, padding: 'valid' },
    { input_shape: [2, 5, 5, 1], pool_size: 3, strides: 2, padding: 'same' },
    { input_shape: [1, 2, 5, 4], pool_size: [2, 3], strides: [1, 2], padding: 'valid',
      data_format: 'channels_first' },
    { input_shape: [1, 3, 4, 2], pool_size: 2, strides: 1, padding: 'same' },
    { input_shape: [1, 2, 7, 6], pool_size: 2, strides: 3, padding: 'same',
      data_format: 'channels_first' },
  ]);
}

for (const [folder, className] of [['max_pooling3d', 'MaxPooling3D'],
                                   ['average_pooling3d', 'AveragePooling3D']]) {
  poolCases(folder, className, 3, [
    { input_shape: [1, 4, 4, 4, 2], pool_size: 2, padding: 'valid' },
    { input_shape: [1, 5, 5, 3, 1], pool_size: 3, strides: 2, padding: 'same' },
    { input_shape: [1, 2, 3, 4, 5], pool_size: [1, 2, 3], strides: [1, 2, 2], padding: 'valid',
      data_format: 'channels_first' },
    { input_shape: [2, 3, 2, 4, 1], pool_size: 2, strides: 1, padding: 'same' },
    { input_shape: [1, 2, 5, 3, 4], pool_size: [2, 3, 2], strides: [2, 2, 1], padding: 'same',
      data_format: 'channels_first' },
  ]);
}

batchNormCases([
  { input_shape: [2, 3], axis: -1, training: false },
  { input_shape: [4, 3], axis: -1, training: true },
  { input_shape: [2, 3, 3, 2], axis: -1, momentum: 0.9, training: true },
  { input_shape: [2, 3, 2, 2], axis: 1, epsilon: 0.01, training: true },
  { input_shape: [2, 2, 3, 3], axis: 1, training: false },
  { input_shape: [2, 2, 2, 2, 3], axis: -1, momentum: 0.5, training: true },
]);

denseCases([
  { input_shape: [2, 3], units: 4 },
  { input_shape: [3, 5], units: 2, activation: 'relu' },
  { input_shape: [2, 3, 4], units: 3, activation: 'tanh' },
  { input_shape: [4, 2], units: 3, activation: 'sigmoid', use_bias: false },
  { input_shape: [1, 6], units: 1 },
]);

weightlessCases('re_lu', 'ReLU', tf.layers.reLU, [
  { input_shape: [2, 5], config: {} },
  { input_shape: [2, 3, 4], config: { max_value: 1.5 }, args: { maxValue: 1.5 } },
]);
// TF.js 4.22's ELU layer supports only alpha 1 (tests/layers/test_elu.cpp checks others).
weightlessCases('elu', 'ELU', tf.layers.elu, [
  { input_shape: [2, 5], config: { alpha: 1 } },
  { input_shape: [3, 2, 2], config: { alpha: 1 } },
]);
// TF.js 4.22's softmax takes only the last axis (tests/layers/test_softmax.cpp checks others).
weightlessCases('softmax', 'Softmax', tf.layers.softmax, [
  { input_shape: [2, 5], config: { axis: -1 }, args: { axis: -1 } },
  { input_shape: [2, 3, 4], config: { axis: -1 }, args: { axis: -1 } },
]);
weightlessCases('repeat_vector', 'RepeatVector', tf.layers.repeatVector, [
  { input_shape: [2, 3], config: { n: 4 }, args: { n: 4 } },
]);
// The noise layers in inference (their training values are random streams, checked against
// Keras' formulas by their moments in tests/layers/test_noise.cpp).
weightlessCases('gaussian_noise', 'GaussianNoise', tf.layers.gaussianNoise, [
  { input_shape: [2, 5], config: { stddev: 0.3 }, args: { stddev: 0.3 } },
]);
weightlessCases('gaussian_dropout', 'GaussianDropout', tf.layers.gaussianDropout, [
  { input_shape: [2, 5], config: { rate: 0.2 }, args: { rate: 0.2 } },
]);
// TF.js has no Subtract layer; tests/layers/test_merge.cpp checks it against a direct definition.
// TF.js 4.22's Maximum/Minimum gradients fail on broadcast inputs (it does not reduce the
// gradient of the size-1 axis), so only Multiply and Average get the broadcast case.
for (const [folder, className, factory, broadcast] of [
  ['multiply', 'Multiply', tf.layers.multiply, true],
  ['average', 'Average', tf.layers.average, true],
  ['maximum', 'Maximum', tf.layers.maximum, false],
  ['minimum', 'Minimum', tf.layers.minimum, false]]) {
  mergeCases(folder, className, factory, [
    [[2, 3], [2, 3]],
    [[2, 4, 3], [2, 4, 3], [2, 4, 3]],
    ...(broadcast ? [[[2, 3, 4], [2, 1, 4]]] : []),
  ]);
}

// TF.js' normalize divides by sqrt(max(sum(x^2), 1e-7)), Keras 3 by max(norm, 1e-7): the same
// for these inputs, whose norms are far above both floors.
mergeCases('dot', 'Dot', tf.layers.dot, [
  { shapes: [[3, 4], [3, 4]], config: { axes: 1 }, args: { axes: 1 } },
  { shapes: [[2, 3, 4], [2, 5, 4]], config: { axes: 2 }, args: { axes: 2 } },
  { shapes: [[2, 3, 4], [2, 3, 5]], config: { axes: [1, 1], normalize: true },
    args: { axes: [1, 1], normalize: true } },
]);

const rnnMask = [[1, 1, 0, 1], [0, 1, 1, 0]];
rnnCases('simple_rnn', 'SimpleRNN', [
  { input_shape: [2, 4, 3], units: 3 },
  { input_shape: [2, 5, 2], units: 2, activation: 'relu', return_sequences: true,
    go_backwards: true },
  { input_shape: [2, 4, 3], units: 2, return_sequences: true, mask: rnnMask },
  { input_shape: [1, 3, 2], units: 2, use_bias: false },
]);
rnnCases('lstm', 'LSTM', [
  { input_shape: [2, 4, 3], units: 3 },
  { input_shape: [1, 5, 2], units: 2, return_sequences: true, go_backwards: true },
  { input_shape: [2, 4, 2], units: 2, return_sequences: true, mask: rnnMask },
]);
rnnCases('gru', 'GRU', [
  { input_shape: [2, 4, 3], units: 3 },
  { input_shape: [2, 3, 2], units: 2, return_sequences: true, go_backwards: true },
  { input_shape: [2, 4, 2], units: 2, mask: rnnMask },
]);
// TF.js' Bidirectional does not force zero outputs at masked steps (Keras does with
// return_sequences), so the masked case returns the last outputs only.
rnnCases('bidirectional', 'Bidirectional', [
  { rnn: 'LSTM', input_shape: [2, 4, 3], units: 2, return_sequences: true },
  { rnn: 'GRU', input_shape: [2, 3, 2], units: 2, merge_mode: 'sum' },
  { rnn: 'SimpleRNN', input_shape: [2, 3, 2], units: 2, return_sequences: true, merge_mode: 'mul' },
  { rnn: 'LSTM', input_shape: [2, 4, 2], units: 2, merge_mode: 'ave', mask: rnnMask },
]);

console.log(`wrote ${outRoot}`);
