'use strict';

// A Node stream.Duplex (net.Socket, tls.TLSSocket, ws's createWebSocketStream,
// ...) or a pair {readable, writable} (a child's {readable: child.stdout,
// writable: child.stdin}, or {readable: process.stdin, writable:
// process.stdout} inside it). Messages are newline-delimited JSON text: a
// message is JSON, and JSON text never needs a raw newline.
//
// Closed on the readable side's 'end' ("stream ended") or 'close' ("stream
// closed"), on either side's 'error', and on the writable side's 'close'.
//
// A line longer than options.maxMessageBytes characters (default 64 MiB,
// the engine's default) is not buffered: it is dropped up to its newline and
// reported to options.onerror with code ETOOLARGE; the connection goes on.

var StringDecoder = require('string_decoder').StringDecoder;
var noop = require('./link').noop;

// A peer that never sends a newline must not grow our buffer forever.
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
    var limit = options.maxMessageBytes > 0 ? options.maxMessageBytes : MAX_LINE_CHARS;
    var partial = ''; // the start of a line whose newline has not come yet
    var skipping = false; // dropping an over-long line up to its newline

    function deliverLine(line) {
        // Blank lines (a keep-alive, a CRLF peer's leftover) carry nothing.
        if (line.length > 0 && line !== '\r') link.deliver(line);
    }

    // Only the new text is searched for newlines, so a long message arriving
    // in many chunks costs linear time.
    function onData(chunk) {
        var text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
        var start = 0;
        var newline;
        while ((newline = text.indexOf('\n', start)) !== -1) {
            if (skipping) {
                skipping = false;
            } else {
                deliverLine(partial + text.slice(start, newline));
            }
            partial = '';
            start = newline + 1;
            if (link.done) return;
        }
        if (skipping) return;
        partial += start === 0 ? text : text.slice(start);
        if (partial.length > limit) {
            partial = '';
            skipping = true;
            tooLong();
        }
    }

    function tooLong() {
        if (typeof options.onerror !== 'function') return;
        var error = new Error('stream message longer than ' + limit +
            ' characters: dropped up to its newline');
        error.code = 'ETOOLARGE';
        options.onerror(error);
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
