"use strict";

// Tracing (the `trace` option and DEBUG=q-connection-rs), connection names,
// and the counters of stats(). DEBUG is read when a connection opens, so the
// DEBUG cases run in child processes with their own environment.

const test = require("ava");
const path = require("path");
const { execFile } = require("child_process");
const { MessageChannel } = require("worker_threads");
const Connection = require("../index.js");
const { makeTracer, debugEnabled } = require("../lib/trace");
const { rawPeer } = require("./helpers/raw-peer");

// Without extensions (no hello), so the traces show only the calls.
function pair(serverOptions, clientOptions) {
  serverOptions = { extensions: false, ...serverOptions };
  clientOptions = { extensions: false, ...clientOptions };
  const { port1, port2 } = new MessageChannel();
  const server = Connection.open(port2, { add: (a, b) => a + b, fail() { throw new Error("no"); } }, serverOptions);
  const client = Connection.open(port1, undefined, clientOptions);
  return { server, client };
}

test("trace receives every message in and out, as the wire text, with the connection's name", async (t) => {
  const seen = [];
  const { server, client } = pair(
    { name: "server", trace: (direction, message, name) => seen.push(["server", direction, message, name]) },
    { name: "client", trace: (direction, message, name) => seen.push(["client", direction, message, name]) }
  );
  t.is(await client.remote.invoke("add", 1, 2), 3);
  await t.throwsAsync(client.remote.invoke("fail"), { message: "no" });

  t.true(seen.every(([side, , , name]) => name === side));
  // What one side sent is exactly what the other received, all of it.
  const texts = (side, direction) => seen.filter((e) => e[0] === side && e[1] === direction).map((e) => e[2]);
  t.deepEqual(texts("client", "out"), texts("server", "in"));
  t.deepEqual(texts("server", "out"), texts("client", "in"));
  // The calls and their answers, in order (negotiated extension messages, if
  // any, are left out here).
  const calls = (side) => seen.filter((e) => e[0] === side && /^\{"type":"(send|resolve)"/.test(e[2]));
  const client_ = calls("client");
  t.deepEqual(client_.map(([, direction]) => direction), ["out", "in", "out", "in"]);
  t.deepEqual(calls("server").map(([, direction]) => direction), ["in", "out", "in", "out"]);
  const first = JSON.parse(client_[0][2]);
  t.like(first, { type: "send", to: "", op: "post" });
  t.deepEqual(first.args, ["add", [1, 2]]);
  t.like(JSON.parse(client_[1][2]), { type: "resolve", to: first.from, resolution: 3 });

  // The counters agree with the trace.
  const stats = client.stats();
  t.is(stats.sendsOut, 2);
  t.is(stats.resolvesIn, 2);
  t.is(server.stats().sendsIn, 2);
  t.is(server.stats().resolvesOut, 2);
  await client.close();
});

test("connections are named conn#N by default, in opening order", (t) => {
  const { server, client } = pair();
  const a = Number(server.name.replace("conn#", ""));
  t.regex(server.name, /^conn#\d+$/);
  t.is(client.name, `conn#${a + 1}`);
  client.close();
});

test("a throwing trace callback never breaks the connection; it is reported as ETRACE", async (t) => {
  const errors = [];
  let calls = 0;
  const { client } = pair(
    {
      trace() {
        calls++;
        throw Object.freeze(new Error("trace is broken"));
      },
    },
    {
      onerror: (error) => errors.push(error),
      trace() {
        throw "not even an Error";
      },
    }
  );
  t.is(await client.remote.invoke("add", 2, 2), 4);
  t.is(await client.remote.invoke("add", 3, 3), 6);
  t.is(calls, 4);
  t.is(errors.length, 4);
  t.true(errors.every((error) => error.code === "ETRACE" && error.cause === "not even an Error"));
  t.is(client.stats().errors, 4);
  await client.close();
});

test("stats counts lost, malformed and refused messages, errors and table sizes", async (t) => {
  const peer = rawPeer({ add: (a, b) => a + b, make: () => new Map() });
  const { handle } = peer;
  peer.post(JSON.stringify({ type: "resolve", to: "NO-SUCH-ID", resolution: 1 }));
  peer.post("{ not json");
  peer.post(JSON.stringify({ type: "send", to: "", from: "A", op: "post", args: ["make", []] }));
  peer.post(JSON.stringify({ type: "hello-from-the-future" }));
  peer.post(JSON.stringify({ type: "send", to: "", from: "B", op: "explode", args: [] }));
  await t.notThrowsAsync(peer.call("", "post", ["add", [1, 2]]));
  const stats = handle.stats();
  t.is(stats.lost, 1);
  t.is(stats.malformed, 1);
  t.is(stats.ignored, 1);
  t.is(stats.refused, 1);
  t.is(stats.sendsIn, 3);
  t.is(stats.resolvesOut, 3); // the refusal is answered with a rejection
  t.is(stats.exports, 1); // the Map answered by reference
  t.is(stats.errors, peer.errors.length);
  t.true(stats.errors >= 3);
  handle.close();
});

test("tracing is off unless asked: no tracer is installed", (t) => {
  const saved = process.env.DEBUG;
  delete process.env.DEBUG;
  try {
    t.is(makeTracer({}, "x", () => {}), null);
    t.not(makeTracer({ trace() {} }, "x", () => {}), null);
  } finally {
    if (saved !== undefined) process.env.DEBUG = saved;
  }
});

test("DEBUG patterns, as the debug package reads them", (t) => {
  for (const on of ["q-connection-rs", "express,q-connection-rs", "a, q-connection-rs ,b", "q-connection-rs*", "q-*", "*"]) {
    t.true(debugEnabled(on), on);
  }
  for (const off of [undefined, "", "express", "q-connection", "q-connection-rs-x", "*,-q-connection-rs", "-q-connection-rs"]) {
    t.false(debugEnabled(off), String(off));
  }
});

const script = `
const Connection = require(${JSON.stringify(path.join(__dirname, "..", "index.js"))});
const { MessageChannel } = require("worker_threads");
const { port1, port2 } = new MessageChannel();
Connection(port2, { add: (a, b) => a + b }, { name: "server", extensions: false });
const client = Connection.open(port1, undefined, { extensions: false });
client.remote.invoke("add", 20, 22).then((sum) => { console.log(sum); return client.close(); });
`;

function runWithDebug(debug) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ["-e", script], { env: { ...process.env, DEBUG: debug }, timeout: 30000 }, (error, stdout, stderr) =>
      error ? reject(error) : resolve({ stdout, stderr })
    );
  });
}

test("DEBUG=q-connection-rs logs every message in and out to stderr with the connection's name", async (t) => {
  const { stdout, stderr } = await runWithDebug("other,q-connection-rs");
  t.is(stdout, "42\n");
  const lines = stderr.trim().split("\n");
  t.is(lines.length, 4, stderr);
  const client = lines.find((line) => / conn#\d+ -> /.test(line));
  t.truthy(client, stderr);
  t.true(lines.some((line) => line.startsWith("q-connection-rs server <- {") && line.includes('"type":"send"')));
  t.true(lines.some((line) => line.startsWith("q-connection-rs server -> {") && line.includes('"resolution":42')));
  t.true(lines.some((line) => / conn#\d+ <- \{.*"resolution":42/.test(line)));
});

test("DEBUG naming other libraries logs nothing", async (t) => {
  const { stdout, stderr } = await runWithDebug("express,-q-connection-rs");
  t.is(stdout, "42\n");
  t.is(stderr, "");
});
