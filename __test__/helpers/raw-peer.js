'use strict';

// A hostile peer for tests: one end of a real MessageChannel whose other end
// is served by a q-connection-rs connection. The test writes raw wire text,
// so it can send what no well-behaved peer would.

const { MessageChannel } = require('worker_threads');
const { open } = require('../..');

/**
 * Serves `local` on a new connection and returns the raw far end:
 * - `handle`: the serving connection (`open`'s handle);
 * - `errors`: every error passed to `onerror`;
 * - `received`: every text the connection sent;
 * - `post(text)`: writes raw text to the connection;
 * - `call(to, op, args)`: sends a `send` and resolves with the raw
 *   `resolution` tree of its answer (`{"!": ...}` for a rejection);
 * - `close()`: closes the far end, which closes the connection.
 */
const live = new Set();

function rawPeer(local, options = {}) {
    const { port1, port2 } = new MessageChannel();
    live.add(port2);
    const errors = [];
    const received = [];
    const waiting = new Map();
    // No hello by default: `received` holds only replies, as from 0.6.1.
    const handle = open(port1, local, { onerror: (error) => errors.push(error), extensions: false, ...options });
    // A batch (the "batch" extension, when a test turns extensions on) is
    // recorded envelope by envelope.
    port2.on('message', (data) => {
        for (const text of data.startsWith('\n') ? data.slice(1).split('\n') : [data]) {
            received.push(text);
            const message = JSON.parse(text);
            const resolve = waiting.get(message.to);
            if (message.type === 'resolve' && resolve) {
                waiting.delete(message.to);
                resolve(message.resolution);
            }
        }
    });
    let next = 0;
    const post = (text) => port2.postMessage(text);
    return {
        handle,
        errors,
        received,
        post,
        call(to, op, args) {
            const from = `T${next++}`;
            return new Promise((resolve) => {
                waiting.set(from, resolve);
                post(JSON.stringify({ type: 'send', to, from, op, args }));
            });
        },
        close() {
            live.delete(port2);
            port2.close();
        }
    };
}

/** Closes every raw peer still open (for `test.after.always`), so a failed test cannot keep the process alive. */
function closeAll() {
    for (const port of live) port.close();
    live.clear();
}

/** The `message` of a raw rejection tree, or a note that it did not reject. */
function rejectionMessage(resolution) {
    if (resolution && typeof resolution === 'object' && resolution['!']) return resolution['!'].message;
    return `not a rejection: ${JSON.stringify(resolution)}`;
}

/** Names of own properties of the shared prototypes, to prove none was added. */
function prototypeSnapshot() {
    const protos = [Object.prototype, Function.prototype, Array.prototype, String.prototype,
        Error.prototype, Promise.prototype];
    return protos.map((proto) => Reflect.ownKeys(proto).map(String).sort().join(','));
}

module.exports = { rawPeer, closeAll, rejectionMessage, prototypeSnapshot };
