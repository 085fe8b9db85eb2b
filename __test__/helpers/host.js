'use strict';

// Hosts the test service (__test__/fixtures/service.js) on a port with
// q-connection-rs or with q-connection 0.6.1, in this thread. Used by the
// worker fixture and by the in-process (Q queue) specs alike.

const Q = require('q');
const Connection = require('../..');
const { makeService } = require('../fixtures/service');

/**
 * serve(port, impl, options) -> { close(reason) }
 *
 * impl "rs": Connection.open(port, service, options).
 * impl "0.6.1": the port is first adapted with 0.6.1's own adapter (a Q
 *   channel passes through), so that the service can close it; 0.6.1 itself
 *   has no close.
 * The service's stats() gives the rs handle's stats (null for 0.6.1), lost()
 * the messages onmessagelost received, as plain data.
 */
function serve(port, impl, options) {
    const lost = [];
    const env = {
        lost: () => lost,
        stats: () => null,
        close: () => {},
    };
    const connectionOptions = Object.assign({}, options, {
        onmessagelost(message) {
            lost.push(message);
        },
    });
    if (impl === '0.6.1') {
        const { Connection: Connection061, adapt: adapt061, Q: Q097 } = require('./q-connection-061');
        const channel = adapt061(port);
        env.close = (reason) => channel.close(reason);
        Connection061(channel, makeService(Q097, env), connectionOptions);
    } else {
        const handle = Connection.open(port, makeService(Q, env), connectionOptions);
        env.close = (reason) => handle.close(reason);
        env.stats = () => handle.stats();
    }
    return { close: env.close };
}

module.exports = { serve };
