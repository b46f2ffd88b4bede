#!/usr/bin/env node
// A bare ONNX Runtime timing loop (npm onnxruntime-node, as installed in
// tools/onnxruntime) on one ONNX file: the yardstick for the overhead of
// mnas's onnxruntime engine (bench/ort_bench.cpp overhead).
//
//   node bench/ort_bare_loop.js MODEL.onnx [WARMUP] [RUNS] [THREADS]
//
// Session as the engine's default: intra-op threads THREADS (1), inter-op 1,
// graph optimisation "all", sequential. Input: the fixed pseudo-random
// values that tools/onnxruntime/serve.js feeds (xorshift32, seed 1), in the
// model's fixed input shape. stdout: {"median_ms", "runs"}.
'use strict';
const path = require('path');
const ort = require(path.join(__dirname, '..', 'tools', 'onnxruntime', 'node_modules', 'onnxruntime-node'));

async function main() {
  const [model, warmup = '10', runs = '30', threads = '1'] = process.argv.slice(2);
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: Number(threads), interOpNumThreads: 1, graphOptimizationLevel: 'all',
    executionMode: 'sequential', logSeverityLevel: 3,
  });
  const shape = Array.from(session.inputMetadata[0].shape);
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  let s = 1;
  for (let i = 0; i < data.length; ++i) {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    data[i] = s / 2147483648 - 1;
  }
  const feeds = {[session.inputNames[0]]: new ort.Tensor('float32', data, shape)};
  for (let i = 0; i < Number(warmup); ++i) await session.run(feeds);
  const ms = [];
  for (let i = 0; i < Number(runs); ++i) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  ms.sort((a, b) => a - b);
  const m = ms.length % 2 ? ms[(ms.length - 1) / 2] : (ms[ms.length / 2 - 1] + ms[ms.length / 2]) / 2;
  process.stdout.write(JSON.stringify({median_ms: m, runs: ms.length}) + '\n');
}
main().catch((e) => { process.stderr.write('ort_bare_loop.js: ' + e.message + '\n'); process.exit(2); });
