'use strict';

// Ports with postMessage: a worker_threads Worker, parentPort or any
// MessagePort, a W3C port or window, a Chrome extension port, and the duck
// type {postMessage, onmessage, close?} (0.6.1's socket.io example).

function originError(event, origin) {
    var error = new Error('Message dropped: origin ' + JSON.stringify(event.origin) +
        ' is not ' + JSON.stringify(origin));
    error.code = 'EORIGIN';
    error.origin = event.origin;
    error.data = event.data;
    return error;
}

// A Worker closes on 'exit' ("worker exited with code N") or 'error'. It is
// not terminated by close(): its owner decides its lifetime.
function adaptWorker(port, options, link) {
    var messagePort = adaptMessagePort(port, options, link, false);
    link.on('exit', function (code) {
        link.finish(new Error('worker exited with code ' + code));
    });
    link.on('error', function (error) {
        link.finish(error instanceof Error ? error : new Error('worker error: ' + error));
    });
    return { send: messagePort.send, close: function () {} };
}

// A Chrome extension port: onMessage/onDisconnect hubs, disconnect().
function adaptChromePort(port, options, link) {
    var onMessage = function (message) { link.deliver(message); };
    var onDisconnect = function () { link.finish(new Error('Port disconnected')); };
    port.onMessage.addListener(onMessage);
    link.onTeardown(function () { port.onMessage.removeListener(onMessage); });
    if (port.onDisconnect && typeof port.onDisconnect.addListener === 'function') {
        port.onDisconnect.addListener(onDisconnect);
        link.onTeardown(function () { port.onDisconnect.removeListener(onDisconnect); });
    }
    return {
        send: function (text) { port.postMessage(text); },
        close: function () {
            if (typeof port.disconnect === 'function') port.disconnect();
        }
    };
}

/**
 * Any other postMessage port. Closed on its 'close' event where it has
 * events (Node and W3C MessagePorts; close() on either side of a
 * MessageChannel), else, for the duck type without events, when its own
 * close() method is called: that method is wrapped while the link lives.
 *
 * options.origin, when given, is postMessage's second argument (only then:
 * Node's MessagePort reads a second argument as a transfer list), and an
 * inbound event whose non-empty origin differs is dropped and handed to
 * options.onerror.
 */
function adaptMessagePort(port, options, link, closable) {
    var hasOrigin = options.origin !== undefined;
    var evented = typeof port.on === 'function' || typeof port.addEventListener === 'function';
    var closePort = function () {
        if (typeof port.close === 'function') port.close();
    };

    link.on('message', function (data) {
        link.deliver(data);
    }, function (event) {
        if (hasOrigin && event && event.origin && event.origin !== options.origin) {
            if (typeof options.onerror === 'function') {
                options.onerror(originError(event, options.origin));
            }
            return;
        }
        link.deliver(event.data);
    });
    if (closable && evented) {
        link.on('close', function () { link.finish(new Error('MessagePort closed')); });
    } else if (closable && typeof port.close === 'function') {
        closePort = watchCloseCalls(port, link);
    }
    // A W3C MessagePort queues messages until start(); a Node MessagePort
    // starts on its first 'message' listener, and start() is harmless.
    if (typeof port.start === 'function') {
        port.start();
    }
    return {
        send: function (text) {
            if (hasOrigin) {
                port.postMessage(text, options.origin);
            } else {
                port.postMessage(text);
            }
        },
        close: closePort
    };
}

// Wraps the duck port's close() so that calling it closes the link; the
// original is put back on close. Returns a caller of the original.
function watchCloseCalls(port, link) {
    var original = port.close;
    var own = Object.prototype.hasOwnProperty.call(port, 'close');
    try {
        port.close = function () {
            var result = original.apply(this, arguments);
            link.finish(new Error('Port closed: its close() was called'));
            return result;
        };
    } catch (_) {
        // A frozen port: its close() cannot be watched, only called.
        return function () { original.call(port); };
    }
    link.onTeardown(function () {
        if (own) {
            port.close = original;
        } else {
            delete port.close;
        }
    });
    return function () { original.call(port); };
}

module.exports = {
    adaptWorker: adaptWorker,
    adaptChromePort: adaptChromePort,
    adaptMessagePort: function (port, options, link) {
        return adaptMessagePort(port, options, link, true);
    }
};
