#!/usr/bin/env node
// Runs one ONNX model in ONNX Runtime (npm onnxruntime-node, CPU) for mnas:
// export verification, mnas_classify and latency timing (train/onnxruntime_runner.h).
//
//   node run.js MODEL.onnx [--input FILE] [--input-type float32|int8]
//               [--shape N,C,H,W] [--output FILE] [--repeat N] [--warmup N] [--threads N] [--opt-level LEVEL]
//               [--execution-mode sequential|parallel]
//   node run.js --version
//
// Input: the model's first input, raw little-endian float32 (or int8 with
// --input-type int8, models with quantized I/O) in row-major order
// (--input FILE; without it, zeros). Its shape is --shape, or the model's own
// when all its dimensions are fixed; a file of k times that many values is k
// runs, one per batch, whose outputs are concatenated along the first
// dimension. Output: the model's first output, raw float32 or int8, as the
// model gives it (--output FILE). --repeat N runs the model N more times on the same
// input after --warmup W untimed runs and reports each run's milliseconds.
// Session: --threads intra-op threads (default 1, inter-op 1),
// --opt-level disabled|basic|extended|all (default all), --execution-mode
// (default sequential).
//
// stdout: one JSON object {"onnxruntime": version, "input": {"name", "shape",
// "type"}, "output": {"name", "shape", "type"}, "threads", "opt_level", "execution_mode",
// "run_ms": [...]}. Errors: a message on stderr, exit 2.
'use strict';

const fs = require('fs');

function fail(msg) {
  process.stderr.write('run.js: ' + msg + '\n');
  process.exit(2);
}

function parseArgs(argv) {
  const a = {threads: 1, optLevel: 'all', executionMode: 'sequential', repeat: 0, warmup: 0, inputType: 'float32'};
  const valueOf = (i, flag) => {
    if (i + 1 >= argv.length) fail(flag + ' needs a value');
    return argv[i + 1];
  };
  const intOf = (s, flag, min) => {
    if (!/^\d+$/.test(s) || Number(s) < min) fail(flag + ' must be an integer >= ' + min + ', got \'' + s + '\'');
    return Number(s);
  };
  for (let i = 0; i < argv.length; ++i) {
    const f = argv[i];
    if (f === '--version') a.version = true;
    else if (f === '--input') a.input = valueOf(i++, f);
    else if (f === '--output') a.output = valueOf(i++, f);
    else if (f === '--input-type') {
      a.inputType = valueOf(i++, f);
      if (!['float32', 'int8'].includes(a.inputType)) {
        fail('--input-type must be float32 or int8, got \'' + a.inputType + '\'');
      }
    }
    else if (f === '--shape') {
      const s = valueOf(i++, f);
      a.shape = s.split(',').map((d) => intOf(d, '--shape dimension', 1));
    } else if (f === '--repeat') a.repeat = intOf(valueOf(i++, f), f, 0);
    else if (f === '--warmup') a.warmup = intOf(valueOf(i++, f), f, 0);
    else if (f === '--threads') a.threads = intOf(valueOf(i++, f), f, 1);
    else if (f === '--opt-level') {
      a.optLevel = valueOf(i++, f);
      if (!['disabled', 'basic', 'extended', 'all'].includes(a.optLevel)) {
        fail('--opt-level must be disabled, basic, extended or all, got \'' + a.optLevel + '\'');
      }
    } else if (f === '--execution-mode') {
      a.executionMode = valueOf(i++, f);
      if (!['sequential', 'parallel'].includes(a.executionMode)) {
        fail('--execution-mode must be sequential or parallel, got \'' + a.executionMode + '\'');
      }
    } else if (f.startsWith('--')) fail('unknown option ' + f);
    else if (a.model === undefined) a.model = f;
    else fail('more than one model: \'' + a.model + '\' and \'' + f + '\'');
  }
  return a;
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  let ort;
  try {
    ort = require('onnxruntime-node');
  } catch (e) {
    fail('cannot load onnxruntime-node from ' + __dirname + '/node_modules (run scripts/setup.sh): ' + e.message);
  }
  const version = require('onnxruntime-node/package.json').version;
  if (a.version) {
    process.stdout.write(JSON.stringify({onnxruntime: version}) + '\n');
    return;
  }
  if (a.model === undefined) fail('no model given');
  let modelBytes;
  try {
    modelBytes = fs.readFileSync(a.model);
  } catch (e) {
    fail('cannot read model \'' + a.model + '\': ' + e.message);
  }
  let session;
  try {
    session = await ort.InferenceSession.create(modelBytes, {
      intraOpNumThreads: a.threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: a.optLevel,
      executionMode: a.executionMode,
      logSeverityLevel: 3,
    });
  } catch (e) {
    fail('ONNX Runtime cannot load \'' + a.model + '\': ' + e.message);
  }
  const inName = session.inputNames[0];
  const outName = session.outputNames[0];
  let shape = a.shape;
  if (shape === undefined) {
    const meta = session.inputMetadata && session.inputMetadata[0];
    const dims = meta && meta.shape ? Array.from(meta.shape) : [];
    if (dims.length === 0 || !dims.every((d) => typeof d === 'number' && d > 0)) {
      fail('input \'' + inName + '\' of \'' + a.model + '\' has no fixed shape (' + JSON.stringify(dims) + '): give --shape');
    }
    shape = dims;
  }
  const count = shape.reduce((p, d) => p * d, 1);
  const Typed = a.inputType === 'int8' ? Int8Array : Float32Array;
  const bytesPer = Typed.BYTES_PER_ELEMENT;
  let data = new Typed(count);
  if (a.input !== undefined) {
    let buf;
    try {
      buf = fs.readFileSync(a.input);
    } catch (e) {
      fail('cannot read input \'' + a.input + '\': ' + e.message);
    }
    if (buf.length === 0 || buf.length % (count * bytesPer) !== 0) {
      fail('input \'' + a.input + '\' has ' + buf.length + ' bytes, not a multiple of the ' + count * bytesPer +
           ' that shape [' + shape + '] needs (' + a.inputType + ')');
    }
    data = new Typed(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
  }
  // An input file of k x the shape's values runs k times (one batch each).
  const batches = data.length / count;
  const feedsOf = (b) => ({[inName]: new ort.Tensor(a.inputType, data.subarray(b * count, (b + 1) * count), shape)});
  const feeds = feedsOf(0);
  const run = async (f) => {
    try {
      return await session.run(f || feeds);
    } catch (e) {
      fail('ONNX Runtime failed to run \'' + a.model + '\': ' + e.message);
    }
  };
  const outs = [];
  for (let b = 0; b < batches; ++b) outs.push((await run(feedsOf(b)))[outName]);
  const out = outs[0];
  if (out.type !== 'float32' && out.type !== 'int8') {
    fail('output \'' + outName + '\' is ' + out.type + ', expected float32 or int8');
  }
  const outShape = Array.from(out.dims);
  outShape[0] *= batches;
  if (a.output !== undefined) {
    const fd = fs.openSync(a.output, 'w');
    for (const o of outs) fs.writeSync(fd, Buffer.from(o.data.buffer, o.data.byteOffset, o.data.byteLength));
    fs.closeSync(fd);
  }
  for (let i = 0; i < a.warmup; ++i) await run();
  const runMs = [];
  for (let i = 0; i < a.repeat; ++i) {
    const t0 = process.hrtime.bigint();
    await run();
    runMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  process.stdout.write(JSON.stringify({
    onnxruntime: version,
    input: {name: inName, shape: shape, type: a.inputType},
    output: {name: outName, shape: outShape, type: out.type},
    threads: a.threads,
    opt_level: a.optLevel,
    execution_mode: a.executionMode,
    run_ms: runMs,
  }) + '\n');
}

main().catch((e) => fail(e && e.stack ? e.stack : String(e)));
