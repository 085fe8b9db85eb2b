'use strict';

// A Q channel {get, put, close?, closed?}: q-connection's own port shape.
// Closed when `closed` settles or a get() fails.

var Q = require('q');
var toError = require('./link').toError;

function adaptChannel(port, options, link) {
    function closed(reason) {
        link.finish(toError(reason, 'Channel closed'));
    }
    // Each message is delivered before the next get(), so a close() called
    // from sink.message leaves no get pending on the channel. A pending get()
    // and `closed` cannot be unsubscribed: they are ignored once closed.
    function pump() {
        Q(port.get()).then(function (message) {
            if (link.done) return;
            try {
                link.deliver(message);
            } finally {
                if (!link.done) pump();
            }
        }, closed).done();
    }
    if (port.closed && typeof port.closed.then === 'function') {
        Q(port.closed).then(closed, closed).done();
    }
    pump();
    return {
        send: function (text) {
            port.put(text);
        },
        close: function (error) {
            if (typeof port.close === 'function') port.close(error);
        }
    };
}

module.exports = { adaptChannel: adaptChannel };
