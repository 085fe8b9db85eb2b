'use strict';

// Adapts the ports a connection can run over to one shape with direct
// callbacks (no promise per message: this is the hot path).
//
// Recognised, in this order (the first that fits wins):
//   'channel'      a Q channel {get, put, close?, closed?}
//   'worker'       a worker_threads Worker (postMessage + terminate)
//   'chrome-port'  a Chrome extension port (postMessage + onMessage.addListener)
//   'message-port' any other postMessage port: MessagePort, parentPort, W3C
//                  MessagePort, a window
//   'websocket'    a port with send: a `ws` WebSocket or a W3C WebSocket
// Anything else is refused with an Error.

var Q = require('q');

var REFUSAL = 'An adaptable message port required: expected a Q channel ' +
    '{get, put}, a port with postMessage, or a WebSocket with send';

var WS_CONNECTING = 0;
var WS_OPEN = 1;

function noop() {}

// A close cause as an Error: an Error passes through; anything else is
// wrapped, keeping the original as `cause`.
function toError(reason, fallback) {
    if (reason instanceof Error) {
        return reason;
    }
    if (reason === undefined || reason === null) {
        return new Error(fallback);
    }
    var error = new Error(typeof reason === 'object' && typeof reason.message === 'string' ?
        reason.message : String(reason));
    error.cause = reason;
    return error;
}

// Listens to event `name` on an EventEmitter (handler gets the emitted
// arguments), else an EventTarget (handler gets the event), else an
// `on<name>` property (handler gets the event). Returns the remover.
function listen(port, name, onArgs, onEvent) {
    if (typeof port.on === 'function') {
        port.on(name, onArgs);
        return function () {
            var off = typeof port.off === 'function' ? port.off : port.removeListener;
            if (typeof off === 'function') off.call(port, name, onArgs);
        };
    }
    if (typeof port.addEventListener === 'function') {
        port.addEventListener(name, onEvent, false);
        return function () {
            if (typeof port.removeEventListener === 'function') {
                port.removeEventListener(name, onEvent, false);
            }
        };
    }
    var property = 'on' + name;
    port[property] = onEvent;
    return function () {
        if (port[property] === onEvent) port[property] = null;
    };
}

// WebSocket payloads as text: Buffer, Buffer[] (ws "fragments"),
// ArrayBuffer and views are read as UTF-8; anything else passes as it is.
function socketText(data) {
    if (typeof data === 'string') return data;
    if (Buffer.isBuffer(data)) return data.toString('utf8');
    if (Array.isArray(data) && data.every(Buffer.isBuffer)) {
        return Buffer.concat(data).toString('utf8');
    }
    if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
    if (ArrayBuffer.isView(data)) {
        return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
    }
    return data;
}

function kindOf(port) {
    if (typeof port.get === 'function' && typeof port.put === 'function') {
        return 'channel';
    }
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

/**
 * adaptPort(port, options?, sink) -> { send(text), close(reason?), kind }
 *
 * sink.message(data): each message received, in order. Strings for all
 *   ports except postMessage ports, which pass non-string data as it is
 *   (the connection reports it). Not called after the adapter is closed.
 * sink.closed(error): called at most once, with an Error, when the port
 *   closes (channel `closed` settles or a get fails, Worker 'exit'
 *   ["worker exited with code N"] or 'error', MessagePort 'close', WebSocket
 *   'close' ["WebSocket closed: CODE"] or 'error', Chrome onDisconnect) or
 *   when close() is called. Sink callbacks must not throw; an exception from
 *   them surfaces as an uncaught exception.
 * options.origin: when given, passed as postMessage's second argument (only
 *   then: Node's MessagePort reads a second argument as a transfer list), and
 *   an inbound event whose non-empty `origin` differs is dropped and handed to
 *   options.onerror(error) if given.
 *
 * send(text): sends at once, except that a WebSocket still connecting
 *   queues text until 'open'. After the adapter has closed, send drops text.
 * close(reason?): removes every listener the adapter added (so nothing is
 *   kept alive by it), closes the port (channel.close(reason),
 *   MessagePort/WebSocket close(), Chrome disconnect(); a Worker is NOT
 *   terminated: its owner decides its lifetime), then calls
 *   sink.closed(reason as Error) unless it was already called. Two
 *   exceptions to "every listener": a pending channel get() and the channel's
 *   `closed` cannot be unsubscribed (they are ignored once closed), and an
 *   EventEmitter WebSocket keeps a no-op 'error' listener so that an error
 *   during its closing handshake does not crash the process.
 */
function adaptPort(port, options, sink) {
    options = options || {};
    if (!sink || typeof sink.message !== 'function' || typeof sink.closed !== 'function') {
        throw new TypeError('adaptPort needs a sink {message, closed}');
    }
    var kind = port && (typeof port === 'object' || typeof port === 'function') ?
        kindOf(port) : null;
    if (!kind) {
        throw new Error(REFUSAL);
    }

    var done = false; // sink.closed was called: deliver and send nothing more
    var removers = [];

    function removeListeners() {
        var list = removers;
        removers = [];
        list.forEach(function (remove) { remove(); });
    }

    function finish(error) {
        if (done) return;
        done = true;
        removeListeners();
        sink.closed(error);
    }

    function deliver(data) {
        if (!done) sink.message(data);
    }

    function on(name, onArgs, onEvent) {
        removers.push(listen(port, name, onArgs, onEvent || onArgs));
    }

    var adapter = {
        kind: kind,
        send: null,
        close: function close(reason) {
            var error = toError(reason, 'Port closed by the local side');
            var wasDone = done;
            done = true;
            removeListeners();
            closePort(error);
            if (!wasDone) sink.closed(error);
        }
    };
    var closePort = noop;

    if (kind === 'channel') {
        adaptChannel();
    } else if (kind === 'websocket') {
        adaptSocket();
    } else {
        adaptPostMessage();
    }
    return adapter;

    function adaptChannel() {
        adapter.send = function (text) {
            if (!done) port.put(text);
        };
        closePort = function (error) {
            if (typeof port.close === 'function') port.close(error);
        };
        // Each message is delivered before the next get(), so a close()
        // called from sink.message leaves no get pending on the channel.
        function pump() {
            Q(port.get()).then(function (message) {
                if (done) return;
                try {
                    deliver(message);
                } finally {
                    if (!done) pump();
                }
            }, function (reason) {
                finish(toError(reason, 'Channel closed'));
            }).done();
        }
        if (port.closed && typeof port.closed.then === 'function') {
            Q(port.closed).then(function (reason) {
                finish(toError(reason, 'Channel closed'));
            }, function (reason) {
                finish(toError(reason, 'Channel closed'));
            }).done();
        }
        pump();
    }

    function adaptPostMessage() {
        var hasOrigin = options.origin !== undefined;
        adapter.send = function (text) {
            if (done) return;
            if (hasOrigin) {
                port.postMessage(text, options.origin);
            } else {
                port.postMessage(text);
            }
        };

        function onEvent(event) {
            if (hasOrigin && event && event.origin && event.origin !== options.origin) {
                if (typeof options.onerror === 'function') {
                    var error = new Error('Message dropped: origin ' +
                        JSON.stringify(event.origin) + ' is not ' +
                        JSON.stringify(options.origin));
                    error.origin = event.origin;
                    error.data = event.data;
                    options.onerror(error);
                }
                return;
            }
            deliver(event.data);
        }

        if (kind === 'chrome-port') {
            var onChromeMessage = function (message) { deliver(message); };
            var onDisconnect = function () { finish(new Error('Port disconnected')); };
            port.onMessage.addListener(onChromeMessage);
            removers.push(function () { port.onMessage.removeListener(onChromeMessage); });
            if (port.onDisconnect && typeof port.onDisconnect.addListener === 'function') {
                port.onDisconnect.addListener(onDisconnect);
                removers.push(function () { port.onDisconnect.removeListener(onDisconnect); });
            }
            closePort = function () {
                if (typeof port.disconnect === 'function') port.disconnect();
            };
            return;
        }

        on('message', deliver, onEvent);
        if (kind === 'worker') {
            on('exit', function (code) {
                finish(new Error('worker exited with code ' + code));
            });
            on('error', function (error) {
                finish(toError(error, 'worker error'));
            });
            // A Worker is not closed here: terminating it is its owner's call.
        } else {
            if (typeof port.on === 'function' || typeof port.addEventListener === 'function') {
                on('close', function () { finish(new Error('MessagePort closed')); });
            }
            closePort = function () {
                if (typeof port.close === 'function') port.close();
            };
        }
        // A W3C MessagePort queues messages until start(); a Node MessagePort
        // starts on its first 'message' listener, and start() is harmless.
        if (typeof port.start === 'function') {
            port.start();
        }
    }

    function adaptSocket() {
        var emitter = typeof port.on === 'function';
        var OPEN = typeof port.OPEN === 'number' ? port.OPEN : WS_OPEN;
        var CONNECTING = typeof port.CONNECTING === 'number' ? port.CONNECTING : WS_CONNECTING;
        var outbox = [];

        adapter.send = function (text) {
            if (done) return;
            // A socket without readyState is taken as open, as 0.6.1 does.
            var open = port.readyState === undefined || port.readyState === OPEN;
            if (open && outbox.length === 0) {
                port.send(text);
            } else {
                outbox.push(text);
            }
        };
        on('open', function () {
            var queued = outbox;
            outbox = [];
            queued.forEach(function (text) {
                if (!done) port.send(text);
            });
        });
        on('message', function (data) {
            deliver(socketText(data));
        }, function (event) {
            deliver(socketText(event.data));
        });
        on('close', function (code) {
            finish(new Error('WebSocket closed: ' + code));
        }, function (event) {
            finish(new Error('WebSocket closed: ' + event.code));
        });
        on('error', function (error) {
            finish(toError(error, 'WebSocket error'));
        }, function (event) {
            finish(event && event.error instanceof Error ?
                event.error : new Error('WebSocket error'));
        });
        closePort = function () {
            outbox = [];
            if (emitter) port.on('error', noop);
            if (typeof port.close === 'function') port.close();
        };
        if (port.readyState !== undefined && port.readyState !== OPEN &&
            port.readyState !== CONNECTING) {
            // Already closing or closed: report it once the caller holds the
            // adapter.
            queueMicrotask(function () {
                finish(new Error('WebSocket closed: readyState ' + port.readyState));
            });
        }
    }
}

module.exports = {
    adaptPort: adaptPort,
    REFUSAL: REFUSAL
};
