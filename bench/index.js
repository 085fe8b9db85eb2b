"use strict";

// `npm run bench`: every scenario against every peer in one sitting. Rounds
// are interleaved (round r runs each scenario once per peer, peers rotated
// by r) so that drift in machine load spreads over all peers; the figures
// printed are the medians over rounds. Writes bench/results.md and
// docs/bench.svg (except for quick runs, unless BENCH_WRITE=1).
//
// Environment:
//   BENCH_ROUNDS=n         rounds (default 3; 1 with BENCH_QUICK)
//   BENCH_MS=n             time per measurement, ms (default 1000; 250 quick)
//   BENCH_QUICK=1          a fast run: short measurements, 20,000 memory calls
//   BENCH_MEMORY_CALLS=n   calls in the memory scenario (default 1,000,000)
//   BENCH_PEERS=a,b        only these peers (names as printed)
//   BENCH_SCENARIOS=a,b    only these scenarios
//   BENCH_WRITE=0|1        write results.md and bench.svg or not

const fs = require("fs");
const os = require("os");
const path = require("path");
const { execFileSync, fork } = require("child_process");
const { Worker, MessageChannel } = require("worker_threads");
const { once } = require("events");
const { peers } = require("./peers");
const { wsPeers } = require("./ws-peers");
const scenarios = require("./scenarios");
const { renderMarkdown, renderSvg, renderConsole } = require("./report");

const env = process.env;
const quick = env.BENCH_QUICK === "1";
const config = {
  quick,
  rounds: Number(env.BENCH_ROUNDS) || (quick ? 1 : 3),
  ms: Number(env.BENCH_MS) || (quick ? 250 : 1000),
  chainDelayMs: 20,
  chainRepeats: quick ? 1 : 3,
  memoryCalls: Number(env.BENCH_MEMORY_CALLS) || (quick ? 20000 : 1000000),
  // 0.6.1 never frees an exported callback (~6 KB each), so a million calls
  // would need ~6 GB; it runs a tenth of the calls and the growth per call
  // is compared.
  memoryCalls061: 100000,
  write: env.BENCH_WRITE ? env.BENCH_WRITE === "1" : !quick,
};

const list = (text) => (text ? text.split(",").map((s) => s.trim()) : null);
const peerNames = list(env.BENCH_PEERS) || Object.keys(peers);
const PORT_SCENARIOS = {
  "port-seq": scenarios.portSeq,
  "port-flight": scenarios.portFlight,
  payload: scenarios.payload,
};
// Over a WebSocket to a server in a child process (bench/ws-server.js).
const WS_SCENARIOS = { "ws-seq": scenarios.portSeq, "ws-flight": scenarios.portFlight };
const allScenarios = ["port-seq", "port-flight", "ws-seq", "ws-flight", "payload", "chain", "memory"];
const scenarioNames = list(env.BENCH_SCENARIOS) || allScenarios;
const MEMORY_PEERS = ["q-connection-rs", "q-connection 0.6.1"];

async function main() {
  const machine = {
    cpu: os.cpus()[0].model,
    cores: os.cpus().length,
    node: process.version,
    date: new Date().toISOString(),
    rounds: config.rounds,
    ms: config.ms,
  };
  console.log(`${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ${config.rounds} rounds of ${config.ms} ms`);
  const worker = new Worker(path.join(__dirname, "worker.js"));
  const wsServer = scenarioNames.some((s) => WS_SCENARIOS[s]) ? await startWsServer() : null;
  const samples = {}; // samples[scenario][peer] = [figure per round]
  const record = (scenario, peer, value) => {
    ((samples[scenario] ||= {})[peer] ||= []).push(value);
    console.log(`  ${scenario.padEnd(12)} ${peer.padEnd(20)} ${format(value)}`);
  };

  for (let round = 0; round < config.rounds; round++) {
    console.log(`round ${round + 1}/${config.rounds}`);
    const order = rotate(peerNames, round);
    for (const scenario of scenarioNames) {
      if (PORT_SCENARIOS[scenario]) {
        for (const peer of order) {
          record(scenario, peer, await overWorker(worker, peer, PORT_SCENARIOS[scenario]));
        }
        if (scenario === "payload") record(scenario, "JSON in-process", await scenarios.jsonInProcess(config.ms));
      } else if (WS_SCENARIOS[scenario]) {
        for (const peer of order.filter((p) => wsPeers[p])) {
          record(scenario, peer, await overSocket(wsServer.ports[peer], peer, WS_SCENARIOS[scenario]));
        }
      } else if (scenario === "chain") {
        for (const peer of order) {
          record(scenario, peer, await scenarios.chain(peer, config.chainDelayMs, config.chainRepeats));
        }
      }
    }
  }
  await worker.terminate();
  if (wsServer) wsServer.child.disconnect();

  const medians = {};
  for (const [scenario, byPeer] of Object.entries(samples)) {
    medians[scenario] = {};
    for (const [peer, values] of Object.entries(byPeer)) medians[scenario][peer] = scenarios.median(values);
  }

  const memory = scenarioNames.includes("memory") ? runMemory() : [];
  const results = { machine, config, medians, memory, peers: peerNames };
  console.log("\n" + renderConsole(results));
  if (config.write) {
    fs.writeFileSync(path.join(__dirname, "results.md"), renderMarkdown(results));
    fs.mkdirSync(path.join(__dirname, "..", "docs"), { recursive: true });
    fs.writeFileSync(path.join(__dirname, "..", "docs", "bench.svg"), renderSvg(results));
    console.log("wrote bench/results.md and docs/bench.svg");
  }
}

/**
 * Serves `peer` in the worker on a fresh MessageChannel, warms up for a
 * quarter of the budget, then measures.
 */
async function overWorker(worker, peer, measure) {
  const { port1, port2 } = new MessageChannel();
  worker.postMessage({ serve: peer, port: port2 }, [port2]);
  await once(worker, "message");
  const client = peers[peer].client(port1);
  try {
    await measure(client, config.ms / 4);
    return await measure(client, config.ms);
  } finally {
    client.close();
  }
}

/** Connects `peer`'s client to its server in the child, warms up, then measures. */
async function overSocket(port, peer, measure) {
  const client = await wsPeers[peer].client(`ws://127.0.0.1:${port}`);
  try {
    await measure(client, config.ms / 4);
    return await measure(client, config.ms);
  } finally {
    client.close();
  }
}

/** Starts bench/ws-server.js; resolves to {child, ports: {peer: port}}. */
function startWsServer() {
  const child = fork(path.join(__dirname, "ws-server.js"));
  return new Promise((resolve, reject) => {
    child.once("message", ({ ports }) => resolve({ child, ports }));
    child.once("exit", (code) => reject(new Error(`bench/ws-server.js exited with code ${code}`)));
  });
}

/** Each memory measurement in a fresh process (see memory.js). */
function runMemory() {
  const rows = [];
  for (const peer of MEMORY_PEERS.filter((p) => peerNames.includes(p))) {
    const calls = peer === "q-connection 0.6.1" ? Math.min(config.memoryCalls, config.memoryCalls061) : config.memoryCalls;
    console.log(`  memory       ${peer.padEnd(20)} ${calls} calls...`);
    try {
      const output = execFileSync(
        process.execPath,
        ["--expose-gc", "--max-old-space-size=4096", path.join(__dirname, "memory.js"), peer, String(calls)],
        { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }
      );
      rows.push(JSON.parse(output.trim().split("\n").pop()));
    } catch (error) {
      // A crash (out of memory, say) is a result too; the other rows stand.
      rows.push({ peer, calls: 0, seconds: 0, rssBefore: 0, rssAfter: 0, stats: null, error: `crashed: ${error.message.split("\n")[0]}` });
    }
  }
  return rows;
}

function rotate(items, by) {
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

function format(value) {
  return value >= 100 ? Math.round(value).toLocaleString("en-US") : value.toFixed(2);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
