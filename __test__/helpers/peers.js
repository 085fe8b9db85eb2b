'use strict';

// Connects a caller in this thread to the test service on the far side of a
// real transport, with either implementation on either side. The scenarios
// (./scenarios.js) only see `env.connect(...)` and the peer it returns, so the
// same scenario runs over a worker's MessageChannel and over Q queues.

const path = require('path');
const { MessageChannel, Worker } = require('worker_threads');
const Q = require('q');
const Connection = require('../..');
const Queue = require('../../lib/queue');
const { serve } = require('./host');

const WORKER = path.join(__dirname, '..', 'fixtures', 'service-worker.js');

/**
 * A pair of Q channels joined by two queues. Closing either end closes both
 * queues, so both channels' `closed` fulfil with the reason.
 */
function channelPair() {
    const ab = Queue();
    const ba = Queue();
    const close = (reason) => {
        ba.close(reason);
        return ab.close(reason);
    };
    return [
        { get: ba.get, put: ab.put, close, closed: ba.closed },
        { get: ab.get, put: ba.put, close, closed: ab.closed },
    ];
}

/**
 * The same channel with q 0.9.7 promises, for a 0.6.1 endpoint, as its own
 * q/queue would give it. (0.6.1 leaves the rejection of its last get()
 * unhandled when the channel closes; q 1.x would report that process-wide.)
 */
function channelFor061(channel) {
    // Handlers are attached at once: Q097(promise) would attach them a tick
    // later, after q 1.x has reported the rejection as unhandled.
    const { Q: Q097 } = require('./q-connection-061');
    const convert = (promise) => {
        const deferred = Q097.defer();
        promise.then(deferred.resolve, deferred.reject);
        return deferred.promise;
    };
    return {
        get: () => convert(channel.get()),
        put: channel.put,
        close: channel.close,
        closed: convert(channel.closed),
    };
}

/**
 * Opens the caller side on `port`. Returns the peer the scenarios use:
 * { remote, handle (rs only), lost, caller, Q }.
 */
function openCaller(port, caller, local, options) {
    const lost = [];
    const connectionOptions = Object.assign({}, options, {
        onmessagelost(message) {
            lost.push(message);
        },
    });
    if (caller === '0.6.1') {
        const { Connection: Connection061, Q: Q097 } = require('./q-connection-061');
        return { remote: Connection061(port, local, connectionOptions), lost, caller, Q: Q097 };
    }
    const handle = Connection.open(port, local, connectionOptions);
    return { remote: handle.remote, handle, lost, caller, Q };
}

/**
 * The service in a real worker thread, one MessageChannel per connection.
 * Each peer also has `inject(text)` (posts raw text to the service) and
 * `peerCloseCause(message)`: the message of the cause the caller sees when
 * the service closes its end with Error(message).
 */
function workerTransport() {
    const worker = new Worker(WORKER);
    const ports = [];
    return {
        name: 'worker',
        connect({ impl = 'rs', caller = 'rs', local, options, farOptions } = {}) {
            const { port1, port2 } = new MessageChannel();
            ports.push(port1);
            worker.postMessage({ port: port2, impl, options: farOptions }, [port2]);
            const peer = openCaller(port1, caller, local, options);
            peer.inject = (text) => port1.postMessage(text);
            peer.peerCloseCause = () => 'MessagePort closed';
            return peer;
        },
        async dispose() {
            for (const port of ports) port.close();
            await worker.terminate();
        },
    };
}

/** The service in this thread, over a pair of Q queues (Connection.Queue). */
function queueTransport() {
    const pairs = [];
    return {
        name: 'queue',
        connect({ impl = 'rs', caller = 'rs', local, options, farOptions } = {}) {
            const [near, far] = channelPair();
            pairs.push(near);
            serve(impl === '0.6.1' ? channelFor061(far) : far, impl, farOptions);
            const peer = openCaller(caller === '0.6.1' ? channelFor061(near) : near, caller, local, options);
            peer.inject = (text) => near.put(text);
            peer.peerCloseCause = (message) => message;
            return peer;
        },
        async dispose() {
            for (const near of pairs) near.close(new Error('test over'));
        },
    };
}

module.exports = { workerTransport, queueTransport, channelPair, channelFor061 };
