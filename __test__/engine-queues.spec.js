'use strict';

// The engine through a pair of Q queues (Connection.Queue): every scenario of
// helpers/scenarios.js with q-connection-rs on both sides, plus what only an
// in-process channel shows (the close cause's identity, Queue as a channel).

const test = require('ava');
const Connection = require('..');
const { queueTransport, channelPair } = require('./helpers/peers');
const { register, rejection } = require('./helpers/scenarios');

const transport = queueTransport();
test.after.always(() => transport.dispose());
register(test, transport);

test('closing the Q channel: the cause is the very reason; a string is wrapped', async (t) => {
    for (const reason of [new Error('queue shut'), 'queue shut']) {
        const [near, far] = channelPair();
        const handle = Connection.open(near);
        Connection(far, { never: () => Connection.Queue().get() });
        const pending = handle.remote.invoke('never');
        far.close(reason);
        const error = await rejection(pending);
        t.is(error.message, 'Connection closed because: queue shut');
        if (typeof reason === 'string') {
            t.true(error.cause instanceof Error);
            t.is(error.cause.cause, reason);
        } else {
            t.is(error.cause, reason);
        }
        t.is(await rejection(handle.remote.invoke('never')), error);
    }
});

test('Connection.Queue is a channel: a queue pair joins two connections', async (t) => {
    const [a, b] = channelPair();
    const left = Connection(a, { name: 'left', greet: (other) => other.invoke('name') });
    const right = Connection(b, { name: () => 'right' });
    t.is(await left.invoke('name'), 'right');
    t.is(await right.get('name'), 'left');
    // `left` belongs to the other connection: b exports it, and the call
    // comes back through b to a and on to the right side's object.
    t.is(await right.invoke('greet', left), 'right');
});
