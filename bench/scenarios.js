"use strict";

// One measurement per function: each takes a connected client (see
// peers.js) and a time budget, and returns one figure. Every measurement
// checks its results, so a peer that answers wrongly fails the bench instead
// of looking fast.

const { MessageChannel, MessagePort } = require("worker_threads");
const { performance } = require("perf_hooks");
const { peers, makeApi, CHAIN_LENGTH } = require("./peers");
const { makePayload, payloadBytes } = require("./data");

const IN_FLIGHT = 10000;
const PAYLOAD_BYTES = payloadBytes();

function check(condition, what) {
  if (!condition) throw new Error(`wrong result: ${what}`);
}

/**
 * Runs `step(done)` (which returns how many operations it did) until `ms`
 * have passed, at least once; returns operations per second.
 */
async function perSecond(ms, step) {
  let done = 0;
  const start = performance.now();
  const end = start + ms;
  do {
    done += await step(done);
  } while (performance.now() < end);
  return (done * 1000) / (performance.now() - start);
}

/** Sequential awaited add(i, 1): calls/s. */
function portSeq(client, ms) {
  return perSecond(ms, async (done) => {
    for (let i = done; i < done + 50; i++) {
      const sum = await client.add(i, 1);
      check(sum === i + 1, `add(${i}, 1) gave ${sum}`);
    }
    return 50;
  });
}

/** add(i, 1) with IN_FLIGHT calls outstanding, in waves: calls/s. */
function portFlight(client, ms) {
  const wave = new Array(IN_FLIGHT);
  return perSecond(ms, async () => {
    for (let i = 0; i < IN_FLIGHT; i++) wave[i] = client.add(i, 1);
    const sums = await Promise.all(wave);
    check(sums[0] === 1 && sums[IN_FLIGHT - 1] === IN_FLIGHT, "a wave of add(i, 1)");
    return IN_FLIGHT;
  });
}

/** Sequential calls returning the ~1 MB value: MB/s of its JSON text. */
async function payload(client, ms) {
  const calls = await perSecond(ms, async () => {
    const value = await client.payload();
    check(value.records.length > 0 && value.records[7].position.label === "p7", "payload");
    return 1;
  });
  return (calls * PAYLOAD_BYTES) / 1e6;
}

/** The baseline of the payload row: JSON.stringify + JSON.parse, in-process. */
async function jsonInProcess(ms) {
  const value = makePayload();
  const copies = await perSecond(ms, async () => {
    const copy = JSON.parse(JSON.stringify(value));
    check(copy.records.length === value.records.length, "JSON copy");
    return 1;
  });
  return (copies * PAYLOAD_BYTES) / 1e6;
}

/**
 * The chain of CHAIN_LENGTH dependent calls over a channel that delays each
 * message by `delayMs`, both ends in this thread: wall time in round trips
 * (2 × delayMs). Median of `repeats` chains. The delay is put on every
 * MessagePort of this thread while the chain runs, so ports that a peer
 * creates and transfers (Comlink's proxies) are delayed too.
 */
async function chain(name, delayMs, repeats) {
  const { port1, port2 } = new MessageChannel();
  const restore = delayAllPorts(delayMs);
  peers[name].server(port2, makeApi());
  const client = peers[name].client(port1);
  const times = [];
  try {
    for (let r = 0; r < repeats; r++) {
      const start = performance.now();
      const value = await client.chain();
      times.push(performance.now() - start);
      check(value === CHAIN_LENGTH - 1, `chain gave ${value}`);
    }
  } finally {
    restore();
    client.close();
    port2.close();
  }
  return median(times) / (2 * delayMs);
}

// Until the returned function is called, every message posted on a
// MessagePort of this thread is sent `ms` later.
function delayAllPorts(ms) {
  const prototype = MessagePort.prototype;
  const post = prototype.postMessage;
  prototype.postMessage = function delayed(message, transfer) {
    setTimeout(() => post.call(this, message, transfer), ms);
  };
  return () => {
    prototype.postMessage = post;
  };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

module.exports = { portSeq, portFlight, payload, jsonInProcess, chain, median, PAYLOAD_BYTES, IN_FLIGHT };
