"use strict";

// The bench's server thread: for each measurement the main thread transfers
// one end of a fresh MessageChannel with the name of the peer to serve on it.

const { parentPort } = require("worker_threads");
const { peers, makeApi } = require("./peers");

const api = makeApi();

parentPort.on("message", (message) => {
  if (message.serve) {
    peers[message.serve].server(message.port, api);
    parentPort.postMessage({ serving: message.serve });
  } else if (message.gc) {
    if (typeof global.gc === "function") global.gc();
    parentPort.postMessage({ collected: true, rss: process.memoryUsage().rss });
  }
});
