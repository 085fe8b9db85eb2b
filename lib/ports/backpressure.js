'use strict';

// Send-side backpressure for a WebSocket port (websocket.js): a peer that
// keeps sending calls but never reads our answers would otherwise grow
// `socket.bufferedAmount` without bound.
//
// Contract: after each send the adapter calls sent(). Once bufferedAmount is
// above `maxBufferedBytes` (the high-water mark), incoming messages are no
// longer delivered: a `ws` socket is paused (its peer then meets TCP
// backpressure), and whatever still arrives (the rest of a chunk already
// read, or everything on a W3C socket, which cannot pause) is held, in order.
// A timer polls bufferedAmount; below half the mark (the low-water mark) the
// held messages are delivered, in order, and the socket resumes, unless the
// sends they cause fill it again. If the held messages go past the mark too
// (only a socket that cannot pause gets there), the socket is closed with
// 1008 (1000 on a W3C socket, whose close() refuses 1008) and the link ends
// with an Error saying why: memory stays within about twice the mark.

var DEFAULT_MAX_BUFFERED_BYTES = 16 << 20;
var DRAIN_POLL_MS = 10;
var POLICY_VIOLATION = 1008;
var NORMAL_CLOSURE = 1000;

function sizeOf(data) {
    if (typeof data === 'string') return data.length;
    return data && typeof data.byteLength === 'number' ? data.byteLength : 0;
}

function maxBufferedOf(options) {
    var max = options && options.maxBufferedBytes;
    return typeof max === 'number' && max > 0 ? max : DEFAULT_MAX_BUFFERED_BYTES;
}

/**
 * Backpressure(port, options, link, pausing): the state of one adapter.
 * `pausing.pause()` / `pausing.resume()` stop and restart the socket's reads
 * (absent for a socket that cannot pause); `deliver(data)` hands a message on.
 */
function Backpressure(port, options, link, pausing, deliver) {
    this.port = port;
    this.link = link;
    this.pausing = pausing;
    this.deliver = deliver;
    this.high = maxBufferedOf(options);
    this.low = this.high / 2;
    this.emitter = typeof port.on === 'function';
    // Only a socket that reports what it buffers can be watched.
    this.watched = typeof port.bufferedAmount === 'number';
    this.backedUp = false;
    this.held = [];
    this.heldBytes = 0;
    this.timer = null;
    var self = this;
    link.onTeardown(function () { self.stopPolling(); });
}

// Incoming message: delivered, or held while the socket is backed up.
Backpressure.prototype.received = function (data) {
    if (!this.backedUp) {
        this.deliver(data);
        return;
    }
    this.held.push(data);
    this.heldBytes += sizeOf(data);
    if (this.heldBytes > this.high) this.overflow();
};

// Called after each send: backs up past the high-water mark.
Backpressure.prototype.sent = function () {
    if (this.backedUp || !this.watched || this.link.done) return;
    if (this.port.bufferedAmount > this.high) {
        this.backedUp = true;
        if (this.pausing) this.pausing.pause();
        this.startPolling();
    }
};

Backpressure.prototype.startPolling = function () {
    var self = this;
    this.timer = setInterval(function () { self.poll(); }, DRAIN_POLL_MS);
    // The socket keeps the process alive while it is open; this timer must not.
    if (typeof this.timer.unref === 'function') this.timer.unref();
};

Backpressure.prototype.stopPolling = function () {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
};

Backpressure.prototype.poll = function () {
    if (this.link.done) {
        this.stopPolling();
        return;
    }
    if (this.port.bufferedAmount > this.low) return;
    this.stopPolling();
    this.backedUp = false;
    // Held messages first, in order; the answers they cause may back the
    // socket up again, and then the rest stays held.
    while (this.held.length > 0 && !this.backedUp && !this.link.done) {
        var data = this.held.shift();
        this.heldBytes -= sizeOf(data);
        this.deliver(data);
    }
    if (this.held.length === 0) this.heldBytes = 0;
    if (!this.backedUp && this.pausing && !this.link.done) this.pausing.resume();
};

// The peer sent more than the mark while not reading: end the connection.
Backpressure.prototype.overflow = function () {
    var error = new Error('WebSocket closed: the peer sent ' + this.heldBytes +
        ' bytes while not reading our answers (over ' + this.high + ' bytes buffered, maxBufferedBytes)');
    this.held = [];
    this.heldBytes = 0;
    if (this.emitter) this.port.on('error', function () {});
    try {
        if (this.emitter) this.port.close(POLICY_VIOLATION, 'peer does not read');
        else this.port.close(NORMAL_CLOSURE, 'peer does not read');
    } catch (e) {
        // Closing a socket that is already closing: the link ends anyway.
    }
    this.link.finish(error);
};

module.exports = {
    Backpressure: Backpressure,
    DEFAULT_MAX_BUFFERED_BYTES: DEFAULT_MAX_BUFFERED_BYTES,
    maxBufferedOf: maxBufferedOf
};
