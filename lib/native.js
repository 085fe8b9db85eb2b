"use strict";

// Native WebSocket client and server: `Connection.connect(url, local, options)`
// and `Connection.listen(options)`. Handshakes, TLS, keepalive, queued writes
// and the closing handshake run on a tokio thread (src/transport); each
// socket is an ordinary port for lib/connection.js, so the protocol engine
// and everything above it are the same as over any other port.
//
// Crossing the bridge: on ws:// each text is written at once from this
// thread (lib/batch.js has gathered a tick's envelopes already); on wss://
// every text sent in one JS tick goes to the tokio thread in one call.
// Received texts come back in one callback per read: on ws:// this thread
// reads the socket itself from its event loop (src/napi/uv_reader.rs) and
// gets the text read (an array when a read brought several); on wss:// the
// tokio thread reads and wakes this one with a batch of every text received
// meanwhile (src/napi/binding_ws.rs).

const { EventEmitter } = require("events");
const { wsConnect, wsListen } = require("../binding.js");
const { open } = require("./connection");
const { NATIVE_PORT } = require("./ports/native");

const GOING_AWAY = 1001;
// Flushes over wss:// are reactions to this (see NativePort.send).
const SETTLED = Promise.resolve();

/** The options the Rust side reads, picked from a connection's options. */
function socketOptions(options) {
  return {
    maxMessageSize: options.maxMessageSize,
    pingInterval: options.pingInterval,
    pingTimeout: options.pingTimeout,
    closeTimeout: options.closeTimeout,
    maxBufferedBytes: options.maxBufferedBytes,
    ca: options.ca === undefined ? undefined : String(options.ca),
    connectTimeout: options.connectTimeout,
    headers: options.headers,
  };
}

/** A process warning; never throws (emitWarning refuses values other than strings and Errors). */
function warn(error) {
  process.emitWarning(error instanceof Error ? error : new Error(String(error)));
}

/** The cause a connection rejects its pending calls with, from the Rust report. */
function closedError(closed) {
  const error = new Error(closed.message);
  error.code = closed.code;
  error.by = closed.by;
  return error;
}

/**
 * The port of one native socket (lib/ports/native.js adapts it).
 * `socket` is a binding `WsConnection`, not yet started.
 */
class NativePort {
  constructor(socket) {
    this[NATIVE_PORT] = true;
    this.socket = socket;
    // ws://: `send` writes from this thread; wss://: it wakes the tokio thread.
    this.direct = socket.writesDirectly === true;
    this.outbox = [];
    this.sink = null;
    this.onerror = null;
    this.done = false;
    // The close code a local close sends (the server sends 1001 on shutdown).
    this.closeCode = 1000;
    this.flush = this.flush.bind(this);
    this.rearm = this.rearm.bind(this);
    // Set by the batch that reports the end: the Rust side then sends nothing more.
    this.ended = false;
  }

  /** Starts delivery to sink {message(text), closed(error)}; called once. */
  attach(sink, onerror) {
    this.sink = sink;
    this.onerror = typeof onerror === "function" ? onerror : null;
    this.socket.start(
      (batch) => this.receive(batch),
      (error) => this.report(error)
    );
  }

  // Runs on the JS thread from a threadsafe function or the socket's poll:
  // nothing should escape it (from the poll it would go to `report`, from a
  // threadsafe function it would be an uncaught exception). A read on this
  // thread (ws://) brings one text, or an array of texts, and needs no
  // rearm: the event loop polls the socket once per turn, and each read
  // takes at most 256 KiB. A batch object comes from the threadsafe
  // function (wss://, and the end of every connection); the next one is
  // allowed from setImmediate, after timers and other I/O had their turn:
  // under a flood, batches would otherwise follow each other within one
  // event-loop turn and starve everything else (the Rust side stops
  // reading the socket meanwhile once 1 MiB waits, so memory stays
  // bounded too).
  receive(delivery) {
    if (typeof delivery === "string") {
      this.message(delivery);
      return;
    }
    if (Array.isArray(delivery)) {
      for (const text of delivery) this.message(text);
      return;
    }
    if (delivery.closed) this.ended = true;
    else setImmediate(this.rearm);
    for (const text of delivery.messages) this.message(text);
    if (delivery.closed) {
      this.done = true;
      this.outbox = [];
      try {
        this.sink.closed(closedError(delivery.closed));
      } catch (error) {
        this.report(error);
      }
    }
  }

  message(text) {
    try {
      this.sink.message(text);
    } catch (error) {
      this.report(error);
    }
  }

  // Also after a local close: the end is still to be delivered, and until it
  // is, the callback keeps the process alive.
  rearm() {
    if (!this.ended) this.socket.rearm();
  }

  report(error) {
    try {
      if (this.onerror) return this.onerror(error);
    } catch (_) {
      // the user's error handler failed too: fall through to a warning
    }
    warn(error);
  }

  // On ws:// a text is written at once, from this thread (one crossing
  // and one `send(2)`, as `ws` does): lib/batch.js has already gathered
  // the tick's envelopes for a peer that takes batches, and a second
  // deferral here cost ~3,000 instructions per message (callgrind). On
  // wss:// a send is a command to the tokio thread, which it would wake:
  // the tick's texts go together from a promise reaction (a microtask
  // without queueMicrotask's AsyncResource).
  send(text) {
    if (this.done) return;
    if (this.direct) this.socket.sendText(text);
    else if (this.outbox.push(text) === 1) SETTLED.then(this.flush);
  }

  // A throw from a reaction would be an unhandled rejection: reported instead.
  flush() {
    const texts = this.outbox;
    if (texts.length === 0) return;
    this.outbox = [];
    try {
      if (texts.length === 1) this.socket.sendText(texts[0]);
      else this.socket.send(texts);
    } catch (error) {
      this.report(error);
    }
  }

  /** Sends what is batched, then starts the closing handshake. */
  close(error) {
    if (this.done) return;
    this.flush();
    this.done = true;
    const reason = error && typeof error.message === "string" ? error.message : "";
    this.socket.close(this.closeCode, reason);
  }
}

/** What the handshake told about the peer: {remoteAddress, url, headers}. */
function peerInfo(socket) {
  return socket.info;
}

/**
 * Connects to a `ws://` or `wss://` server; resolves to the connection
 * handle of Connection.open ({remote, close, closed, stats}) plus `info`.
 */
async function connect(url, local, options) {
  options = options || {};
  const port = await connectPort(url, options);
  const handle = open(port, local, options);
  handle.info = peerInfo(port.socket);
  return handle;
}

/** The port of a new client socket, for Connection.open (or a test writing raw text). */
async function connectPort(url, options) {
  return new NativePort(await wsConnect(String(url), socketOptions(options || {})));
}

/**
 * A listening native server. Events: "connection" (handle, info) for each
 * accepted socket; "error" (error) when user code run for the server throws:
 * a `local` factory (its socket is then closed with code 4500) or a
 * "connection" listener.
 */
class NativeServer extends EventEmitter {
  constructor(options) {
    super();
    this.options = options;
    this.binding = null;
    // The open connections' handles, and their ports (to close with 1001).
    this.handles = new Map();
    this.closing = null;
  }

  accept(socket) {
    const port = new NativePort(socket);
    const info = peerInfo(socket);
    let handle;
    try {
      const local = this.options.local;
      const root = typeof local === "function" ? local(info) : local;
      handle = open(port, root, this.options);
    } catch (error) {
      // No connection without its local object: refuse the socket.
      socket.close(4500, "could not create the local object");
      this.complain(error);
      return;
    }
    if (this.closing) {
      port.closeCode = GOING_AWAY;
      handle.close(new Error("server closed"));
      return;
    }
    this.handles.set(handle, port);
    handle.closed.then(() => this.handles.delete(handle));
    try {
      this.emit("connection", handle, info);
    } catch (error) {
      this.complain(error);
    }
  }

  // An error of user code run for the server: to "error" listeners if any,
  // else a process warning (never an uncaught exception from a socket event).
  complain(error) {
    if (this.listenerCount("error") > 0) {
      try {
        this.emit("error", error);
        return;
      } catch (_) {
        // fall through to a warning
      }
    }
    warn(error);
  }

  /** {host, port} the server listens on. */
  address() {
    return this.binding.address();
  }

  /** {connections}: sockets still open on the Rust side; {handles}: open on the JS side. */
  stats() {
    return { connections: this.binding.connections, handles: this.handles.size };
  }

  /**
   * Stops listening and closes every connection (code 1001): their pending
   * calls reject at once with "Connection closed because: server closed".
   * Settles once every socket is closed (or its close timeout passed).
   */
  close() {
    if (this.closing) return this.closing;
    const cause = new Error("server closed");
    for (const [handle, port] of this.handles) {
      port.closeCode = GOING_AWAY;
      handle.close(cause);
    }
    this.handles.clear();
    this.closing = this.binding.close(GOING_AWAY, "server shutting down");
    return this.closing;
  }
}

/**
 * Listens for WebSocket connections. options: {host ("127.0.0.1"), port (0),
 * path (any when absent), local (a root object shared by all, or a function
 * (info) => root called per connection), ...Connection.open options,
 * maxMessageSize, pingInterval, pingTimeout, closeTimeout}.
 */
async function listen(options) {
  options = options || {};
  const server = new NativeServer(options);
  const onConnection = (socket) => {
    try {
      server.accept(socket);
    } catch (error) {
      server.complain(error);
    }
  };
  server.binding = await wsListen(
    {
      host: options.host,
      port: options.port,
      path: options.path,
      connection: socketOptions(options),
    },
    onConnection
  );
  return server;
}

module.exports = { connect, connectPort, listen, NativeServer, NativePort };
