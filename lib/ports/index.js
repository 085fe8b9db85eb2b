'use strict';

// Adapts every port a connection can run over to one shape with direct
// callbacks (no promise per message: this is the hot path), each with close
// detection. One file per family:
//
//   kind            family            port
//   'channel'       channel.js        a Q channel {get, put, close?, closed?}
//   'process'       ipc.js            `process` inside a forked child
//   'child-process' ipc.js            a ChildProcess with an IPC channel (fork)
//   'stream'        stream.js         a stream.Duplex or {readable, writable}
//   'worker'        post-message.js   a worker_threads Worker
//   'chrome-port'   post-message.js   a Chrome extension port
//   'message-port'  post-message.js   any other postMessage port: MessagePort,
//                                     parentPort, W3C port, window,
//                                     {postMessage, onmessage, close?}
//   'websocket'     websocket.js      a port with send: `ws` or W3C WebSocket
//   'native'        native.js         our Rust WebSocket (lib/native.js); tried first
//
// Kinds are tried in this order; the first that fits wins. Anything else is
// refused with an Error naming what was expected.

var Link = require('./link').Link;
var toError = require('./link').toError;
var channel = require('./channel');
var ipc = require('./ipc');
var stream = require('./stream');
var postMessage = require('./post-message');
var websocket = require('./websocket');
var native = require('./native');

var REFUSAL = 'An adaptable message port required: expected a Q channel {get, put}, ' +
    'a port with postMessage (Worker, MessagePort, window, Chrome port, ' +
    '{postMessage, onmessage}), a WebSocket with send, a forked child process ' +
    'or `process` inside one, or a stream.Duplex or {readable, writable} stream pair';

var FAMILIES = {
    'channel': channel.adaptChannel,
    'process': ipc.adaptProcess,
    'child-process': ipc.adaptChildProcess,
    'stream': stream.adaptStream,
    'worker': postMessage.adaptWorker,
    'chrome-port': postMessage.adaptChromePort,
    'message-port': postMessage.adaptMessagePort,
    'websocket': websocket.adaptSocket,
    'native': native.adaptNative
};

function isChildProcess(port) {
    return typeof port.send === 'function' && typeof port.kill === 'function' &&
        typeof port.disconnect === 'function' && typeof port.on === 'function';
}

function kindOf(port) {
    if (native.isNativePort(port)) return 'native';
    if (typeof port.get === 'function' && typeof port.put === 'function') {
        return 'channel';
    }
    if (port === process) {
        return typeof process.send === 'function' ? 'process' : null;
    }
    if (isChildProcess(port)) return 'child-process';
    if (stream.isDuplex(port) || stream.isStreamPair(port)) return 'stream';
    if (typeof port.postMessage === 'function') {
        if (typeof port.terminate === 'function') return 'worker';
        if (typeof port.on !== 'function' && port.onMessage &&
            typeof port.onMessage.addListener === 'function') {
            return 'chrome-port';
        }
        return 'message-port';
    }
    if (typeof port.send === 'function') {
        return 'websocket';
    }
    return null;
}

// What a refused port was, for the refusal message.
function describe(port) {
    if (port === process) return '`process` without an IPC channel (not started by fork())';
    if (port === null || typeof port !== 'object' && typeof port !== 'function') {
        return String(port);
    }
    if (typeof port.kill === 'function' && 'stdin' in port && 'stdout' in port) {
        return 'a child process without an IPC channel (fork() it, or pass ' +
            '{readable: child.stdout, writable: child.stdin})';
    }
    if (stream.isReadable(port) || stream.isWritable(port)) {
        return 'a one-way stream (pass a Duplex or {readable, writable})';
    }
    var name = port.constructor && port.constructor.name;
    var keys = Object.keys(port).filter(function (key) {
        return key.charAt(0) !== '_';
    }).slice(0, 8);
    return (name && name !== 'Object' ? 'a ' + name : 'an object') +
        (keys.length ? ' with keys ' + keys.join(', ') : ' without keys');
}

/**
 * adaptPort(port, options?, sink) -> { send(text), close(reason?), kind }
 *
 * sink.message(data): each message received, in order. Strings for every
 *   port except postMessage and IPC ports, which pass non-string data as it
 *   is (the connection reports it). Not called after the adapter is closed.
 * sink.closed(error): called at most once, with an Error saying what
 *   happened, when the port closes from its side (see each family for its
 *   events and causes) or when close() is called. Sink callbacks must not
 *   throw; an exception from them surfaces as an uncaught exception.
 * options.origin, options.onerror: see post-message.js.
 *
 * send(text): sends at once, except that a WebSocket still connecting
 *   queues text until 'open'. After the adapter has closed, send drops text.
 * close(reason?): removes every listener the adapter added (so nothing is
 *   kept alive by it), closes the port (each family says how; a Worker is
 *   not terminated nor a child killed: their owner decides their lifetime),
 *   then calls sink.closed(reason as Error) unless it was already called.
 */
function adaptPort(port, options, sink) {
    options = options || {};
    if (!sink || typeof sink.message !== 'function' || typeof sink.closed !== 'function') {
        throw new TypeError('adaptPort needs a sink {message, closed}');
    }
    var kind = port && (typeof port === 'object' || typeof port === 'function') ?
        kindOf(port) : null;
    if (!kind) {
        throw new Error(REFUSAL + '; got ' + describe(port));
    }
    var link = new Link(port, sink);
    var family = FAMILIES[kind](port, options, link);
    return {
        kind: kind,
        send: function send(text) {
            if (!link.done) family.send(text);
        },
        close: function close(reason) {
            var error = toError(reason, 'Port closed by the local side');
            var wasDone = link.done;
            link.done = true;
            link.teardown();
            family.close(error);
            if (!wasDone) link.sink.closed(error);
        }
    };
}

module.exports = {
    adaptPort: adaptPort,
    REFUSAL: REFUSAL
};
