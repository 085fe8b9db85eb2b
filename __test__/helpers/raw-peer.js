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
function rawPeer(local, options = {}) {
    const { port1, port2 } = new MessageChannel();
    const errors = [];
    const received = [];
    const waiting = new Map();
    const handle = open(port1, local, { onerror: (error) => errors.push(error), ...options });
    port2.on('message', (text) => {
        received.push(text);
        const message = JSON.parse(text);
        const resolve = waiting.get(message.to);
        if (message.type === 'resolve' && resolve) {
            waiting.delete(message.to);
            resolve(message.resolution);
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
            port2.close();
        }
    };
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

module.exports = { rawPeer, rejectionMessage, prototypeSnapshot };
