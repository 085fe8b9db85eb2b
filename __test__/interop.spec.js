'use strict';

// Interop with the real q-connection 0.6.1: every portable scenario of
// helpers/scenarios.js with 0.6.1 serving and q-connection-rs calling, and the
// other way round, over a MessageChannel to a real worker and over Q queues.

const test = require('ava');
const { workerTransport, queueTransport } = require('./helpers/peers');
const { register } = require('./helpers/scenarios');

const worker = workerTransport();
const queues = queueTransport();
test.after.always(() => Promise.all([worker.dispose(), queues.dispose()]));

for (const transport of [worker, queues]) {
    register(test, transport, { impl: '0.6.1', caller: 'rs' });
    register(test, transport, { impl: 'rs', caller: '0.6.1' });
}

const Connection = require('..');
const { Connection: Connection061, Q: Q097 } = require('./helpers/q-connection-061');
const { channelPair, channelFor061 } = require('./helpers/peers');
const { rejection } = require('./helpers/scenarios');

test('0.6.1 closing its Q channel: the rs side rejects its pending calls with the cause', async (t) => {
    const [near, far] = channelPair();
    // The 0.6.1 caller serves a function that never answers.
    Connection061(channelFor061(near), { wait: () => Q097.defer().promise });
    const handle = Connection.open(far, {});
    const pending = handle.remote.invoke('wait');
    await Q097.delay(10);
    const reason = new Error('0.6.1 hangs up');
    near.close(reason);
    const error = await rejection(pending);
    t.is(error.message, 'Connection closed because: 0.6.1 hangs up');
    t.is(error.cause, reason);
    t.is(await handle.closed, reason);
    t.is(handle.stats().questions, 0);
});
