"use strict";

// The peers of the ws-seq and ws-flight scenarios: each a server (run in the
// child process bench/ws-server.js) and a client (in the bench process) over
// a WebSocket on 127.0.0.1. q-connection-rs uses its native transport
// (Connection.listen / Connection.connect); the others use the `ws` module.
// Clients have the shape of bench/peers.js.

const WebSocket = require("ws");
// capnweb reads the global WebSocket's constants; Node 20 has none.
if (typeof globalThis.WebSocket === "undefined") globalThis.WebSocket = WebSocket;

const Connection = require("..");
const capnweb = require("capnweb");
const { peers, qMethods, CapnApi, load061 } = require("./peers");

/** A `ws` socket as the postMessage port bench/peers.js expects; `json` for peers that post objects. */
function asPort(socket, json) {
  return {
    postMessage: (data) => socket.send(json ? JSON.stringify(data) : data),
    on(name, handler) {
      socket.on("message", (data) => {
        const text = data.toString();
        handler(json ? JSON.parse(text) : text);
      });
    },
    close: () => socket.close(),
  };
}

function openSocket(url) {
  const socket = new WebSocket(url);
  return new Promise((resolve, reject) => {
    socket.once("open", () => resolve(socket));
    socket.once("error", reject);
  });
}

/** A `ws` server on 127.0.0.1 calling `serve(socket)` per connection; resolves to its port. */
function wsServer(serve) {
  const server = new WebSocket.Server({ host: "127.0.0.1", port: 0 });
  server.on("connection", serve);
  return new Promise((resolve) => server.on("listening", () => resolve(server.address().port)));
}

const wsPeers = {
  "q-connection-rs": {
    async server(api) {
      const server = await Connection.listen({ local: api });
      return server.address().port;
    },
    async client(url) {
      const handle = await Connection.connect(url);
      return qMethods(handle.remote, () => handle.close(), handle.stats);
    },
  },
  "q-connection 0.6.1": {
    server: (api) => wsServer((socket) => load061()(socket, api)),
    // 0.6.1 sends at once: it needs an open socket.
    client: async (url) => peers["q-connection 0.6.1"].client(await openSocket(url)),
  },
  capnweb: {
    server: (api) => wsServer((socket) => capnweb.newWebSocketRpcSession(socket, new CapnApi(api))),
    async client(url) {
      const socket = await openSocket(url);
      const stub = capnweb.newWebSocketRpcSession(socket);
      return {
        add: (a, b) => stub.add(a, b),
        close() {
          stub[Symbol.dispose]();
          socket.close();
        },
      };
    },
  },
  birpc: {
    server: (api) => wsServer((socket) => peers.birpc.server(asPort(socket, true), api)),
    client: async (url) => peers.birpc.client(asPort(await openSocket(url), true)),
  },
  "raw echo": {
    server: (api) => wsServer((socket) => peers["raw echo"].server(asPort(socket, false), api)),
    client: async (url) => peers["raw echo"].client(asPort(await openSocket(url), false)),
  },
};

module.exports = { wsPeers };
