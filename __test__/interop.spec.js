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


// A peer learns our question ids (each call's `from`) and may send to them.
// 0.6.1 applies such a call to the question's eventual value; so must we,
// rather than to the deferred that settles it.
test('a send to one of our pending calls waits for its answer and applies to it', async (t) => {
    for (const impl of ['rs', '0.6.1']) {
        const [near, far] = channelPair();
        const asked = [];
        const channel = Object.assign({}, near, {
            put(text) {
                asked.push(JSON.parse(text));
                near.put(text);
            },
        });
        const remote = impl === 'rs' ? Connection(channel, {}, { extensions: false }) : Connection061(channelFor061(channel), {});
        const pending = remote.invoke('anything');
        const question = (await far.get()) && asked[0].from;
        far.put(JSON.stringify({ type: 'send', to: question, from: 'Z1', op: 'post', args: ['resolve', [42]] }));
        far.put(JSON.stringify({ type: 'send', to: question, from: 'Z2', op: 'keys', args: [] }));
        await new Promise((resolve) => setTimeout(resolve, 20));
        t.is(asked.length, 1, `${impl}: nothing is answered before the call settles`);
        far.put(JSON.stringify({ type: 'resolve', to: question, resolution: { a: 1, b: 2 } }));
        t.deepEqual(await pending, { a: 1, b: 2 }, impl);
        const answers = {};
        for (let i = 0; i < 2; i++) {
            const message = JSON.parse(await far.get());
            answers[message.to] = message.resolution;
        }
        t.deepEqual(answers.Z2, ['a', 'b'], impl);
        t.truthy(answers.Z1['!'], `${impl}: "resolve" is not a method of the answer`);
        near.close(new Error('over'));
    }
});
