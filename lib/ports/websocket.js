'use strict';

// A port with send(): a `ws` WebSocket (EventEmitter, client or server
// side) or a W3C WebSocket (EventTarget: Node's global WebSocket, undici's,
// a browser's). Text is queued while the socket connects and sent on 'open'.
// Closed on 'close' ("WebSocket closed: CODE") and on 'error'.

var noop = require('./link').noop;
var toError = require('./link').toError;
var Backpressure = require('./backpressure').Backpressure;

var WS_CONNECTING = 0;
var WS_OPEN = 1;
var NORMAL_CLOSURE = 1000;
var TURN_MESSAGES = 2048;

// A W3C socket fires 'error' without a cause and then always 'close' with
// the code, which is the better cause: the error waits this long for it.
var ERROR_THEN_CLOSE_MS = 50;

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

function closedError(code, reason) {
    reason = reason === undefined || reason === null ? '' : String(reason);
    return new Error('WebSocket closed: ' + code + (reason ? ' ' + reason : ''));
}

function adaptSocket(port, options, link) {
    var emitter = typeof port.on === 'function';
    var OPEN = typeof port.OPEN === 'number' ? port.OPEN : WS_OPEN;
    var CONNECTING = typeof port.CONNECTING === 'number' ? port.CONNECTING : WS_CONNECTING;
    var outbox = [];

    // A Blob is read asynchronously, which would reorder messages; binary
    // frames from a W3C socket are taken as ArrayBuffers instead.
    if (!emitter && port.binaryType === 'blob') {
        port.binaryType = 'arraybuffer';
    }

    link.on('open', function () {
        var queued = outbox;
        outbox = [];
        queued.forEach(function (text) {
            if (!link.done) port.send(text);
        });
        backpressure.sent();
    });
    // Fairness under a flood: a `ws` socket delivers every frame of all the
    // data read in one event-loop turn (megabytes, tens of thousands of
    // messages); every TURN_MESSAGES messages it is paused and resumed from
    // setImmediate, so timers and other sockets get their turn, and the peer
    // meets TCP backpressure meanwhile. (A quiet socket pauses for one turn
    // every TURN_MESSAGES messages, which costs nothing noticeable.)
    var inTurn = 0;
    var pausable = emitter && typeof port.pause === 'function' && typeof port.resume === 'function';
    // Two reasons to pause (a turn's quota, backpressure): reads resume
    // when neither holds.
    var turnPaused = false;
    var sendPaused = false;
    function resume() {
        inTurn = 0;
        turnPaused = false;
        if (!link.done && !sendPaused) port.resume();
    }
    var pausing = pausable ? {
        pause: function () { sendPaused = true; port.pause(); },
        resume: function () {
            sendPaused = false;
            if (!turnPaused) port.resume();
        }
    } : null;
    var backpressure = new Backpressure(port, options, link, pausing, function (data) {
        link.deliver(socketText(data));
    });
    link.on('message', function (data) {
        if (pausable && ++inTurn === TURN_MESSAGES) {
            turnPaused = true;
            port.pause();
            setImmediate(resume);
        }
        backpressure.received(data);
    }, function (event) {
        backpressure.received(event.data);
    });
    link.on('close', function (code, reason) {
        link.finish(closedError(code, reason));
    }, function (event) {
        link.finish(closedError(event.code, event.reason));
    });
    link.on('error', function (error) {
        link.finish(toError(error, 'WebSocket error'));
    }, function (event) {
        var error = event && event.error instanceof Error ?
            event.error : new Error('WebSocket error');
        link.later(ERROR_THEN_CLOSE_MS, function () { link.finish(error); });
    });
    if (port.readyState !== undefined && port.readyState !== OPEN &&
        port.readyState !== CONNECTING) {
        // Already closing or closed: report it once the caller holds the
        // adapter.
        queueMicrotask(function () {
            link.finish(new Error('WebSocket closed: readyState ' + port.readyState));
        });
    }

    return {
        send: function (text) {
            // A socket without readyState is taken as open, as 0.6.1 does.
            var open = port.readyState === undefined || port.readyState === OPEN;
            if (open && outbox.length === 0) {
                port.send(text);
                backpressure.sent();
            } else {
                outbox.push(text);
            }
        },
        // An EventEmitter socket keeps a no-op 'error' listener, so that an
        // error during its closing handshake does not crash the process.
        close: function () {
            outbox = [];
            if (emitter) port.on('error', noop);
            if (typeof port.close === 'function') port.close(NORMAL_CLOSURE);
        }
    };
}

module.exports = { adaptSocket: adaptSocket, socketText: socketText };
