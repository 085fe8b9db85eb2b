'use strict';

// A Node stream.Duplex (net.Socket, tls.TLSSocket, ws's createWebSocketStream,
// ...) or a pair {readable, writable} (a child's {readable: child.stdout,
// writable: child.stdin}, or {readable: process.stdin, writable:
// process.stdout} inside it). Messages are newline-delimited JSON text: a
// message is JSON, and JSON text never needs a raw newline.
//
// Closed on the readable side's 'end' ("stream ended") or 'close' ("stream
// closed"), on either side's 'error', and on the writable side's 'close'.

var StringDecoder = require('string_decoder').StringDecoder;
var noop = require('./link').noop;

// A peer that never sends a newline must not grow our buffer forever. Same
// bound as the engine's default message size.
var MAX_LINE_CHARS = 64 * 1024 * 1024;

function isReadable(stream) {
    return !!stream && typeof stream.on === 'function' && typeof stream.read === 'function' &&
        typeof stream.pipe === 'function';
}

function isWritable(stream) {
    return !!stream && typeof stream.on === 'function' && typeof stream.write === 'function' &&
        typeof stream.end === 'function';
}

function isDuplex(port) {
    return isReadable(port) && isWritable(port);
}

function isStreamPair(port) {
    return isReadable(port.readable) && isWritable(port.writable);
}

// Any raw newline in JSON text is whitespace between tokens (a newline in a
// string is escaped), so replacing it by a space keeps the same value.
function frame(text) {
    return (text.indexOf('\n') === -1 ? text : text.replace(/\n/g, ' ')) + '\n';
}

function adaptStream(port, options, link) {
    var duplex = isDuplex(port);
    var readable = duplex ? port : port.readable;
    var writable = duplex ? port : port.writable;
    var decoder = new StringDecoder('utf8');
    var partial = '';

    function deliverLine(line) {
        // Blank lines (a keep-alive, a CRLF peer's leftover) carry nothing.
        if (line.length > 0 && line !== '\r') link.deliver(line);
    }

    // Only the new text is searched for newlines, so a long message arriving
    // in many chunks costs linear time.
    function onData(chunk) {
        var text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
        var newline = text.indexOf('\n');
        if (newline === -1) {
            partial += text;
        } else {
            deliverLine(partial + text.slice(0, newline));
            var start = newline + 1;
            while (!link.done && (newline = text.indexOf('\n', start)) !== -1) {
                deliverLine(text.slice(start, newline));
                start = newline + 1;
            }
            partial = text.slice(start);
        }
        if (partial.length > MAX_LINE_CHARS && !link.done) {
            partial = '';
            closeFromPeer(new Error('stream message longer than ' + MAX_LINE_CHARS +
                ' characters without a newline'));
        }
    }

    // The peer closed (or broke) one side: report it and close our side too,
    // so that a half-open stream is not left keeping the process alive.
    function closeFromPeer(error) {
        link.finish(error);
        shutDown();
    }

    // Ends our writing side (flushing what is written) and then destroys
    // both sides. Errors after this point are ignored: the link is closed.
    var quiet = false;
    function shutDown() {
        if (!quiet) {
            quiet = true;
            readable.on('error', noop);
            if (!duplex) writable.on('error', noop);
        }
        if (writable.destroyed || writable.writableEnded) {
            destroy();
        } else {
            writable.end(destroy);
        }
    }

    function destroy() {
        readable.destroy();
        if (!duplex) writable.destroy();
    }

    link.on('data', onData, null, readable);
    link.on('end', function () { closeFromPeer(new Error('stream ended')); }, null, readable);
    link.on('close', function () { closeFromPeer(new Error('stream closed')); }, null, readable);
    link.on('error', closeFromPeer, null, readable);
    if (!duplex) {
        link.on('close', function () { closeFromPeer(new Error('stream closed')); }, null, writable);
        link.on('error', closeFromPeer, null, writable);
    }
    if (readable.readableEnded || readable.destroyed || writable.destroyed) {
        queueMicrotask(function () { closeFromPeer(new Error('stream closed')); });
    }

    return {
        send: function (text) {
            if (!writable.writableEnded && !writable.destroyed) writable.write(frame(text));
        },
        close: shutDown
    };
}

module.exports = {
    adaptStream: adaptStream,
    isReadable: isReadable,
    isWritable: isWritable,
    isDuplex: isDuplex,
    isStreamPair: isStreamPair
};
