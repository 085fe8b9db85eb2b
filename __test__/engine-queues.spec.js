'use strict';

// The engine through a pair of Q queues (Connection.Queue): every scenario of
// helpers/scenarios.js with q-connection-rs on both sides, plus what only an
// in-process channel shows (the close cause's identity, Queue as a channel).

const test = require('ava');
const Q = require('q');
const Connection = require('..');
const { queueTransport, channelPair } = require('./helpers/peers');
const { register, rejection } = require('./helpers/scenarios');
const { Thing } = require('./fixtures/service');

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

test('a FarReference passed on: as a result, inside a value, and as a local root', async (t) => {
    // C serves things; B holds a connection to C and hands C's things to A.
    const [bc, cb] = channelPair();
    Connection(cb, { makeThing: (name) => new Thing(name) });
    const c = Connection(bc);
    const [ab, ba] = channelPair();
    Connection(ba, {
        async relay(name) {
            return c.invoke('makeThing', name).then((far) => far); // a FarReference
        },
        async relayInside(name) {
            const far = await c.invoke('makeThing', name);
            return { far, list: [far] };
        },
    });
    const b = Connection(ab);
    t.is(await b.invoke('relay', 'one').invoke('hello'), 'hello from one');
    const inside = await b.invoke('relayInside', 'two');
    // Inside a value, a reference arrives as a Q promise, as in 0.6.1.
    t.true(Q.isPromise(inside.far));
    t.is(await inside.far.invoke('hello', 'hi'), 'hi from two');
    t.is(await inside.list[0].get('name'), 'two');

    // A FarReference as the local root of another connection forwards to it.
    const far = await c.invoke('makeThing', 'root');
    const [x, y] = channelPair();
    Connection(y, far);
    t.is(await Connection(x).invoke('hello'), 'hello from root');
});

test('these specs run without q-connection 0.6.1 loaded (its shims change built-ins)', (t) => {
    t.deepEqual(Object.keys(require.cache).filter((file) => file.includes('/node_modules/q-connection/')), []);
    t.is(Array.prototype.addEach, undefined);
});
