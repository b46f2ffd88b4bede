#!/usr/bin/env node
// A long-lived ONNX Runtime (npm onnxruntime-node, CPU) server for mnas: one
// node process loads many models and times them, so that the latency engine
// `onnxruntime` (latency/onnxruntime_engine.cpp) pays node's start-up once
// per process, not once per model (train/onnxruntime_server.h is the client).
//
//   node serve.js
//
// Reads one JSON request per line on stdin and writes one JSON reply per
// line on stdout, in order. Every reply has "ok": true, or "ok": false and
// "error" (a message naming the file or model); the server keeps serving
// after an error. Requests ("op"):
//   {"op": "version"} -> {"onnxruntime": "1.30.0"}
//   {"op": "load", "name": N, "path": FILE, "threads": 1, "opt_level": "all",
//    "execution_mode": "sequential", "shape": [1, 3, 224, 224] (optional)}
//        -> {"input": {"name", "shape"}, "output": {"name"}}
//        loads FILE as model N (replacing one of that name) and runs it once;
//        timed runs feed it a fixed pseudo-random input of the shape (the
//        model's own when omitted: all its dimensions must then be fixed)
//        and write into one output tensor allocated from that first run.
//   {"op": "unload", "names": [N, ...]}
//   {"op": "run", "name": N, "input": FILE, "output": FILE}
//        -> {"shape": [...]}: runs N on FILE (raw float32 of the input shape)
//        and writes its first output as raw float32 to FILE.
//   {"op": "time", "models": [N, ...], "reference": [R, ...], "per_run": true,
//    "rounds": 3, "warmup": 10, "round_warmup": 2, "min_runs": 30,
//    "max_runs": 400, "min_time_ms": 400}
//        -> {"rounds": [[{"run_ms": [...], "reference_ms": [...]}, ...], ...]}
//        (one list per model, one entry per round). The models are timed in
//        `rounds` round-robin passes; in each, a model gets `warmup` (first
//        round) or `round_warmup` untimed runs, then timed runs until
//        min_runs and min_time_ms (its own runs' time) are both reached, or
//        max_runs. With reference models, each timed run is followed by one
//        timed run of the next reference copy (per_run), or each round's
//        window of runs by one (per_run false): the client normalises.
//   {"op": "quit"} -> exits after replying.
'use strict';

const fs = require('fs');
const readline = require('readline');

let ort;
let version;
try {
  ort = require('onnxruntime-node');
  version = require('onnxruntime-node/package.json').version;
} catch (e) {
  process.stderr.write('serve.js: cannot load onnxruntime-node from ' + __dirname +
                       '/node_modules (run scripts/setup.sh): ' + e.message + '\n');
  process.exit(2);
}

const models = new Map();  // name -> {session, path, inName, outName, shape, feeds}

class RequestError extends Error {}
const need = (cond, msg) => {
  if (!cond) throw new RequestError(msg);
};

function intField(req, key, def, min) {
  const v = req[key] === undefined ? def : req[key];
  need(Number.isInteger(v) && v >= min, key + ' must be an integer >= ' + min + ', got ' + JSON.stringify(v));
  return v;
}

// A fixed pseudo-random input in [-1, 1) (xorshift32, seed 1).
function fixedInput(count) {
  const data = new Float32Array(count);
  let s = 1;
  for (let i = 0; i < count; ++i) {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    data[i] = s / 2147483648 - 1;
  }
  return data;
}

async function load(req) {
  need(typeof req.name === 'string' && req.name !== '', 'load: name must be a non-empty string');
  need(typeof req.path === 'string' && req.path !== '', 'load: path must be a non-empty string');
  const threads = intField(req, 'threads', 1, 1);
  const optLevel = req.opt_level === undefined ? 'all' : req.opt_level;
  need(['disabled', 'basic', 'extended', 'all'].includes(optLevel),
       'opt_level must be disabled, basic, extended or all, got ' + JSON.stringify(optLevel));
  const mode = req.execution_mode === undefined ? 'sequential' : req.execution_mode;
  need(['sequential', 'parallel'].includes(mode),
       'execution_mode must be sequential or parallel, got ' + JSON.stringify(mode));
  let bytes;
  try {
    bytes = fs.readFileSync(req.path);
  } catch (e) {
    throw new RequestError('cannot read model \'' + req.path + '\': ' + e.message);
  }
  let session;
  try {
    session = await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: optLevel,
      executionMode: mode,
      logSeverityLevel: 3,
    });
  } catch (e) {
    throw new RequestError('ONNX Runtime cannot load \'' + req.path + '\': ' + e.message);
  }
  const inName = session.inputNames[0];
  const outName = session.outputNames[0];
  let shape = req.shape;
  if (shape === undefined) {
    const meta = session.inputMetadata && session.inputMetadata[0];
    shape = meta && meta.shape ? Array.from(meta.shape) : [];
    need(shape.length > 0 && shape.every((d) => typeof d === 'number' && d > 0),
         'input \'' + inName + '\' of \'' + req.path + '\' has no fixed shape (' + JSON.stringify(shape) +
         '): give "shape"');
  }
  need(Array.isArray(shape) && shape.length > 0 && shape.every((d) => Number.isInteger(d) && d > 0),
       'shape must be a list of positive integers, got ' + JSON.stringify(shape));
  const count = shape.reduce((p, d) => p * d, 1);
  const feeds = {[inName]: new ort.Tensor('float32', fixedInput(count), shape)};
  // Timed runs write into one preallocated output tensor, so that they time
  // the graph, not a fresh JS allocation and copy of its output per run (a
  // single layer's output at 112 px is megabytes; a network's is its logits).
  let first;
  try {
    first = (await session.run(feeds))[outName];
  } catch (e) {
    await session.release();
    throw new RequestError('ONNX Runtime failed to run \'' + req.path + '\' on shape [' + shape + ']: ' + e.message);
  }
  const fetches = {[outName]: new ort.Tensor(first.type, new first.data.constructor(first.data.length), first.dims)};
  const old = models.get(req.name);
  if (old) await old.session.release();
  models.set(req.name, {session, path: req.path, inName, outName, shape, count, feeds, fetches});
  return {input: {name: inName, shape: shape}, output: {name: outName}};
}

function modelOf(name) {
  const m = models.get(name);
  need(m !== undefined, 'no model loaded as ' + JSON.stringify(name));
  return m;
}

async function runOnce(m, feeds) {
  try {
    return feeds ? await m.session.run(feeds) : await m.session.run(m.feeds, m.fetches);
  } catch (e) {
    throw new RequestError('ONNX Runtime failed to run \'' + m.path + '\': ' + e.message);
  }
}

async function run(req) {
  const m = modelOf(req.name);
  let buf;
  try {
    buf = fs.readFileSync(req.input);
  } catch (e) {
    throw new RequestError('cannot read input \'' + req.input + '\': ' + e.message);
  }
  need(buf.length === m.count * 4, 'input \'' + req.input + '\' has ' + buf.length + ' bytes, but \'' + m.path +
       '\' takes shape [' + m.shape + '] (' + m.count * 4 + ' bytes of float32)');
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
  const out = (await runOnce(m, {[m.inName]: new ort.Tensor('float32', data, m.shape)}))[m.outName];
  need(out.type === 'float32', 'output \'' + m.outName + '\' of \'' + m.path + '\' is ' + out.type +
       ', expected float32');
  try {
    fs.writeFileSync(req.output, Buffer.from(out.data.buffer, out.data.byteOffset, out.data.byteLength));
  } catch (e) {
    throw new RequestError('cannot write output \'' + req.output + '\': ' + e.message);
  }
  return {shape: Array.from(out.dims)};
}

const now = () => process.hrtime.bigint();
const msSince = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

async function time(req) {
  need(Array.isArray(req.models) && req.models.length > 0, 'time: models must be a non-empty list of names');
  const ms = req.models.map(modelOf);
  const refs = (req.reference || []).map(modelOf);
  const perRun = req.per_run === undefined ? true : !!req.per_run;
  const rounds = intField(req, 'rounds', 1, 1);
  const warmup = intField(req, 'warmup', 10, 0);
  const roundWarmup = intField(req, 'round_warmup', 2, 0);
  const minRuns = intField(req, 'min_runs', 30, 1);
  const maxRuns = intField(req, 'max_runs', 400, 1);
  const minTime = req.min_time_ms === undefined ? 400 : req.min_time_ms;
  need(typeof minTime === 'number' && minTime >= 0, 'min_time_ms must be a number >= 0');
  let nextRef = 0;
  const refRun = async () => {
    const r = refs[nextRef++ % refs.length];
    const t0 = now();
    await runOnce(r);
    return msSince(t0);
  };
  const out = ms.map(() => []);
  for (let round = 0; round < rounds; ++round) {
    for (let i = 0; i < ms.length; ++i) {
      const m = ms[i];
      for (let w = 0; w < (round === 0 ? warmup : roundWarmup); ++w) {
        await runOnce(m);
        if (refs.length && perRun) await refRun();
      }
      const runMs = [];
      const refMs = [];
      let own = 0;
      for (let n = 0; n < maxRuns && (n < minRuns || own < minTime); ++n) {
        const t0 = now();
        await runOnce(m);
        const t = msSince(t0);
        own += t;
        runMs.push(t);
        if (refs.length && perRun) refMs.push(await refRun());
      }
      if (refs.length && !perRun) refMs.push(await refRun());
      out[i].push({run_ms: runMs, reference_ms: refMs});
    }
  }
  return {rounds: out};
}

async function handle(req) {
  need(req !== null && typeof req === 'object' && !Array.isArray(req), 'request must be a JSON object');
  switch (req.op) {
    case 'version': return {onnxruntime: version};
    case 'load': return load(req);
    case 'unload': {
      need(Array.isArray(req.names), 'unload: names must be a list');
      for (const n of req.names) {
        const m = models.get(n);
        if (m) {
          await m.session.release();
          models.delete(n);
        }
      }
      return {};
    }
    case 'run': return run(req);
    case 'time': return time(req);
    case 'quit': return {};
    default: throw new RequestError('unknown op ' + JSON.stringify(req.op) +
                                    ': expected version, load, unload, run, time or quit');
  }
}

async function main() {
  const rl = readline.createInterface({input: process.stdin, crlfDelay: Infinity});
  for await (const line of rl) {
    if (line.trim() === '') continue;
    let reply;
    let quit = false;
    try {
      const req = JSON.parse(line);
      quit = req && req.op === 'quit';
      reply = Object.assign({ok: true}, await handle(req));
    } catch (e) {
      const msg = e instanceof RequestError ? e.message :
          e instanceof SyntaxError ? 'request is not JSON: ' + e.message : (e && e.stack) || String(e);
      reply = {ok: false, error: msg};
    }
    process.stdout.write(JSON.stringify(reply) + '\n');
    if (quit) break;
  }
  for (const m of models.values()) await m.session.release();
}

main().catch((e) => {
  process.stderr.write('serve.js: ' + ((e && e.stack) || String(e)) + '\n');
  process.exit(2);
});
