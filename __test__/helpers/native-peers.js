'use strict';

// The scenarios' transport (see ./peers.js for the contract) over real
// WebSockets on 127.0.0.1, with the native Rust transport on at least one
// side:
// - rs serving: our native server (Connection.listen), one per connect, so
//   that each connection gets its own farOptions;
// - 0.6.1 serving: a `ws` server whose sockets are served by q-connection 0.6.1;
// - rs calling: our native client (lib/native.js connectPort + open);
// - 0.6.1 calling: a `ws` client running q-connection 0.6.1.
// env.connect is synchronous, so the peer is handed out before the socket is
// open: its remote is a promise that forwards to the real remote once it is.

const Q = require('q');
const { WebSocketServer, WebSocket } = require('ws');
const Connection = require('../..');
const { Connection: Connection061, Q: Q097 } = require('./q-connection-061');
const native = require('../../lib/native');
const { NATIVE_PORT } = require('../../lib/ports/native');
const { makeService } = require('../fixtures/service');

/** A `ws` socket as 0.6.1 wants it: sends wait for 'open' (ws 8 throws before). */
function portFor061(ws) {
    const waiting = [];
    if (ws.readyState !== WebSocket.OPEN) {
        ws.once('open', () => waiting.splice(0).forEach((text) => ws.send(text)));
    }
    return {
        on: (name, listener) => ws.on(name, listener),
        send(text) {
            if (ws.readyState === WebSocket.OPEN) ws.send(text);
            else waiting.push(text);
        },
    };
}

/**
 * A native port still connecting, so that the scenarios get a handle at
 * once: sends wait for the socket, then go through it in order.
 */
class PendingPort {
    constructor(connecting) {
        this[NATIVE_PORT] = true;
        this.port = null;
        this.queued = [];
        this.connecting = connecting.then((port) => {
            this.port = port;
            for (const text of this.queued.splice(0)) port.send(text);
            return port;
        });
    }

    attach(sink, onerror) {
        this.connecting.then((port) => port.attach(sink, onerror), (error) => sink.closed(error));
    }

    send(text) {
        if (this.port) this.port.send(text);
        else this.queued.push(text);
    }

    close(error) {
        this.connecting.then((port) => port.close(error), () => {});
    }
}

/** Serves the test service; resolves to { url, close() }. */
async function serveFar(impl, farOptions) {
    const lost = [];
    const env = { lost: () => lost, stats: () => null, close: () => {} };
    const options = Object.assign({}, farOptions, {
        onmessagelost(message) {
            lost.push(message);
        },
    });
    if (impl === '0.6.1') {
        const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/rpc' });
        await new Promise((resolve) => wss.once('listening', resolve));
        wss.on('connection', (ws) => {
            env.close = (reason) => ws.close(1000, reason.message);
            Connection061(portFor061(ws), makeService(Q097, env), options);
        });
        return {
            url: `ws://127.0.0.1:${wss.address().port}/rpc`,
            close() {
                for (const ws of wss.clients) ws.terminate();
                return new Promise((resolve) => wss.close(resolve));
            },
        };
    }
    const server = await Connection.listen(Object.assign({ path: '/rpc', local: () => makeService(Q, env) }, options));
    server.on('connection', (handle) => {
        env.close = (reason) => handle.close(reason);
        env.stats = () => handle.stats();
    });
    return { url: `ws://127.0.0.1:${server.address().port}/rpc`, close: () => server.close() };
}

function nativeTransport() {
    const disposers = [];
    return {
        name: 'native',
        connect({ impl = 'rs', caller = 'rs', local, options, farOptions } = {}) {
            const lost = [];
            const callerOptions = Object.assign({}, options, {
                onmessagelost(message) {
                    lost.push(message);
                },
            });
            const far = serveFar(impl, farOptions);
            disposers.push(() => far.then((served) => served.close()));
            const peer = { lost, caller };
            if (caller === '0.6.1') {
                const ws = far.then(({ url }) => new WebSocket(url));
                peer.Q = Q097;
                const port = ws.then((socket) => {
                    disposers.push(() => socket.terminate());
                    return portFor061(socket);
                });
                peer.remote = Q097(port).then((p) => Connection061(p, local, callerOptions));
                peer.inject = (text) => port.then((p) => p.send(text));
            } else {
                const port = new PendingPort(far.then(({ url }) => native.connectPort(url)));
                const handle = Connection.open(port, local, callerOptions);
                disposers.push(() => handle.close(new Error('test over')));
                peer.Q = Q;
                peer.remote = handle.remote;
                peer.handle = handle;
                peer.inject = (text) => port.send(text);
            }
            peer.peerCloseCause = (message) => 'WebSocket closed by the peer with code 1000: ' + message;
            return peer;
        },
        async dispose() {
            await Promise.all(disposers.map((dispose) => Promise.resolve().then(dispose).catch(() => {})));
        },
    };
}

module.exports = { nativeTransport, serveFar, portFor061 };
