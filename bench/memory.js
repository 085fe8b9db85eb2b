"use strict";

// The memory scenario, run in a child process of its own (node
// --expose-gc bench/memory.js <peer> <calls>) so that its RSS is not mixed
// with the other measurements: `calls` calls of register(callback, i), each
// passing a fresh callback, in waves of WAVE in flight, server in a worker
// thread. Prints one JSON line: RSS after a warm-up and at the end (after a
// full GC in both threads), and the client's table sizes when it has stats(),
// with the most exports it held at once during the measured calls.

const path = require("path");
const { Worker, MessageChannel } = require("worker_threads");
const { once } = require("events");
const { peers } = require("./peers");

const WAVE = 1000;
// Calls before the baseline, 5% of the measured ones (at most 50,000): the
// young generation's pages and the tables' capacities reach their working
// size first, which is not growth per call.
const warmUp = (count) => WAVE * Math.min(50, Math.max(1, Math.round(count / 20 / WAVE)));

async function main() {
  const [name, countText] = process.argv.slice(2);
  const count = Number(countText);
  const worker = new Worker(path.join(__dirname, "worker.js"));
  const { port1, port2 } = new MessageChannel();
  worker.postMessage({ serve: name, port: port2 }, [port2]);
  await once(worker, "message");
  const client = peers[name].client(port1);

  let peak = 0;
  async function run(calls) {
    for (let done = 0; done < calls; done += WAVE) {
      const wave = [];
      for (let i = 0; i < WAVE; i++) wave.push(client.register(() => i, i));
      const answers = await Promise.all(wave);
      if (answers[WAVE - 1] !== WAVE - 1) throw new Error("wrong answer to register");
      if (client.stats) peak = Math.max(peak, client.stats().exports);
    }
  }

  // Several rounds with pauses: finalizers run in a later task, and the
  // releases they queue (reference release) go out after an idle delay of
  // 200 ms, then free the exports on the other side.
  async function collect() {
    for (let round = 0; round < 5; round++) {
      global.gc();
      worker.postMessage({ gc: true });
      await once(worker, "message");
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    global.gc();
    return process.memoryUsage().rss;
  }

  await run(warmUp(count));
  const before = await collect();
  peak = 0;
  const start = Date.now();
  // A peer may refuse calls once its tables are full: the figures are then
  // those of the calls answered, and the refusal is reported.
  let done = 0;
  let error = null;
  try {
    for (; done < count; done += WAVE) await run(WAVE);
  } catch (refusal) {
    error = refusal && refusal.message ? refusal.message : String(refusal);
  }
  const seconds = (Date.now() - start) / 1000;
  const after = await collect();
  const stats = typeof client.stats === "function" ? { ...client.stats(), peakExports: peak } : null;
  process.stdout.write(
    JSON.stringify({ peer: name, calls: done, seconds, rssBefore: before, rssAfter: after, stats, error }) + "\n"
  );
  client.close();
  await worker.terminate();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
