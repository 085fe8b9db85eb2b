'use strict';

// A native WebSocket (lib/native.js): the socket, framing and limits live on
// tokio threads, and the port object batches across the bridge both ways.
// Recognised by a registered symbol, so nothing else is mistaken for it.
// Closed when the Rust side reports the end, with the cause it gives
// ("WebSocket closed by the peer with code 1000: bye", "WebSocket connection
// lost: ...", "keepalive timeout: ...").

var NATIVE_PORT = Symbol.for('q-connection-rs.native-port');

function isNativePort(port) {
    return port[NATIVE_PORT] === true;
}

// port.attach(sink, onerror) starts delivery; port.send(text) batches;
// port.close(error) flushes what is batched and starts the closing handshake.
function adaptNative(port, options, link) {
    port.attach({
        message: function (text) { link.deliver(text); },
        closed: function (error) { link.finish(error); }
    }, options.onerror);
    return {
        send: function (text) { port.send(text); },
        close: function (error) { port.close(error); }
    };
}

module.exports = { NATIVE_PORT: NATIVE_PORT, isNativePort: isNativePort, adaptNative: adaptNative };
