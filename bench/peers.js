"use strict";

// The RPC systems the bench compares, each with a client half (main thread)
// and a server half (worker thread or the same thread), over a port-like
// transport. Every client has the same shape:
//
//   add(a, b)      -> promise for a + b
//   payload()      -> promise for the ~1 MB structured value (see data.js)
//   chain()        -> promise for 4, the result of 5 dependent calls; peers that
//                     can return objects by reference chain through them
//                     (capnweb pipelines, others wait one round trip each)
//   register(f, i) -> promise for i, passing the callback f to the far side
//   close()
//
// A server takes the same `api` object (see makeApi) whatever the peer, so
// every peer does the same work per call.

const QConnectionRs = require("..");
const capnweb = require("capnweb");
const Comlink = require("comlink");
const nodeEndpoint = require("comlink/dist/umd/node-adapter");
const { createBirpc } = require("birpc");
const { makePayload } = require("./data");

const CHAIN_LENGTH = 5;

/** The object every server exposes; `Node` chains for the chain scenario. */
class Node {
  constructor(depth) {
    this.depth = depth;
  }
  child() {
    return new Node(this.depth + 1);
  }
  value() {
    return this.depth;
  }
}

function makeApi() {
  const payload = makePayload();
  return {
    add: (a, b) => a + b,
    payload: () => payload,
    child: () => new Node(1),
    register: (callback, i) => i,
  };
}

// 0.6.1 loads collections@0.1, which adds methods to Array and Object and
// replaces a few built-ins for the whole thread, so it is loaded only when
// its peer runs (BENCH_PEERS without it keeps every thread clean), and
// Array.from is put back (as __test__/helpers/q-connection-061.js does).
let QConnection061 = null;
function load061() {
  if (!QConnection061) {
    const from = Array.from;
    QConnection061 = require("q-connection");
    Array.from = from;
  }
  return QConnection061;
}

// q-connection 0.6.1 and q-connection-rs share the Q API.
function qClient(load) {
  return (port) => {
    const Connection = load();
    // q-connection-rs's open() also gives the table sizes (stats()).
    const handle = Connection.open ? Connection.open(port) : { remote: Connection(port), stats: null };
    return qMethods(handle.remote, () => port.close(), handle.stats);
  };
}

/** The client shape over a Q promise for the far root object. */
function qMethods(remote, close, stats) {
  return {
    add: (a, b) => remote.invoke("add", a, b),
    payload: () => remote.invoke("payload"),
    chain() {
      let node = remote.invoke("child");
      for (let i = 2; i < CHAIN_LENGTH; i++) node = node.invoke("child");
      return node.invoke("value");
    },
    register: (callback, i) => remote.invoke("register", callback, i),
    close,
    stats,
  };
}

function qServer(load) {
  return (port, api) => {
    load()(port, api);
  };
}

// capnweb passes RpcTarget instances by reference and pipelines calls on
// the promises it returns.
class CapnNode extends capnweb.RpcTarget {
  constructor(depth) {
    super();
    this.depth = depth;
  }
  child() {
    return new CapnNode(this.depth + 1);
  }
  value() {
    return this.depth;
  }
}

class CapnApi extends capnweb.RpcTarget {
  constructor(api) {
    super();
    this.api = api;
  }
  add(a, b) {
    return this.api.add(a, b);
  }
  payload() {
    return this.api.payload();
  }
  child() {
    return new CapnNode(1);
  }
  register(callback, i) {
    // capnweb stubs must be disposed or they pin the far side's export.
    if (callback && typeof callback[Symbol.dispose] === "function") callback[Symbol.dispose]();
    return i;
  }
}

// Comlink copies return values unless they are marked as proxies.
class ComlinkNode extends Node {
  child() {
    return Comlink.proxy(new ComlinkNode(this.depth + 1));
  }
}

const peers = {
  "q-connection-rs": { client: qClient(() => QConnectionRs), server: qServer(() => QConnectionRs) },
  "q-connection 0.6.1": { client: qClient(load061), server: qServer(load061) },

  capnweb: {
    client(port) {
      const stub = capnweb.newMessagePortRpcSession(port);
      return {
        add: (a, b) => stub.add(a, b),
        payload: () => stub.payload(),
        chain() {
          let node = stub.child();
          for (let i = 2; i < CHAIN_LENGTH; i++) node = node.child();
          return node.value();
        },
        register: (callback, i) => stub.register(callback, i),
        close() {
          stub[Symbol.dispose]();
          port.close();
        },
      };
    },
    server(port, api) {
      capnweb.newMessagePortRpcSession(port, new CapnApi(api));
    },
  },

  Comlink: {
    client(port) {
      const remote = Comlink.wrap(nodeEndpoint(port));
      return {
        add: (a, b) => remote.add(a, b),
        payload: () => remote.payload(),
        async chain() {
          let node = await remote.child();
          for (let i = 2; i < CHAIN_LENGTH; i++) {
            const next = await node.child();
            node[Comlink.releaseProxy]();
            node = next;
          }
          const value = await node.value();
          node[Comlink.releaseProxy]();
          return value;
        },
        register: (callback, i) => remote.register(Comlink.proxy(callback), i),
        close() {
          remote[Comlink.releaseProxy]();
          port.close();
        },
      };
    },
    server(port, api) {
      Comlink.expose(
        {
          add: api.add,
          payload: api.payload,
          child: () => Comlink.proxy(new ComlinkNode(1)),
          register: api.register,
        },
        nodeEndpoint(port)
      );
    },
  },

  // birpc returns values only, so its chain is 5 dependent calls by value.
  birpc: {
    client(port) {
      const rpc = createBirpc({}, birpcChannel(port));
      return {
        add: (a, b) => rpc.add(a, b),
        payload: () => rpc.payload(),
        async chain() {
          let value = -1;
          for (let i = 0; i < CHAIN_LENGTH; i++) value = await rpc.add(value, 1);
          return value;
        },
        register: (callback, i) => rpc.register(null, i),
        close: () => port.close(),
      };
    },
    server(port, api) {
      createBirpc({ add: api.add, payload: api.payload, register: api.register }, birpcChannel(port));
    },
  },

  // No RPC layer: the same message shape as a q-connection call, a JSON
  // string each way, parsed on arrival, answers matched by id.
  "raw echo": {
    client(port) {
      const pending = new Map();
      let next = 0;
      listen(port, (text) => {
        const message = JSON.parse(text);
        const resolve = pending.get(message.to);
        pending.delete(message.to);
        resolve(message.resolution);
      });
      function call(op, args) {
        const from = String(next++);
        return new Promise((resolve) => {
          pending.set(from, resolve);
          port.postMessage(`{"type":"send","to":"","from":"${from}","op":"${op}","args":${JSON.stringify(args)}}`);
        });
      }
      return {
        add: (a, b) => call("add", [a, b]),
        payload: () => call("payload", []),
        // One round trip: the unit the chain scenario is measured in.
        chain: () => call("add", [CHAIN_LENGTH - 2, 1]),
        register: (callback, i) => call("register", [null, i]),
        close: () => port.close(),
      };
    },
    server(port, api) {
      listen(port, (text) => {
        const message = JSON.parse(text);
        const resolution = api[message.op](...message.args);
        port.postMessage(`{"type":"resolve","to":"${message.from}","resolution":${JSON.stringify(resolution)}}`);
      });
    },
  },
};

function listen(port, onData) {
  if (typeof port.on === "function") port.on("message", onData);
  else port.addEventListener("message", (event) => onData(event.data));
  if (typeof port.start === "function") port.start();
}

function birpcChannel(port) {
  return {
    post: (data) => port.postMessage(data),
    on: (fn) => listen(port, fn),
    timeout: 600000,
  };
}

module.exports = { peers, makeApi, qMethods, CapnApi, load061, CHAIN_LENGTH };
