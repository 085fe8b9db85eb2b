'use strict';

// Limits per connection: calls served at once and live exports. Past a limit
// the peer gets a rejection saying so, stats() counts it, onerror hears of
// it, and the connection keeps serving.

const test = require('ava');
const Q = require('q');
const { MessageChannel } = require('worker_threads');
const { open } = require('..');
const { rawPeer, closeAll, rejectionMessage } = require('./helpers/raw-peer');

test.after.always(closeAll);

test('calls past maxPendingCalls are refused with a reason; room returns as answers go out', async (t) => {
    const gates = [];
    const peer = rawPeer({
        wait() {
            const gate = Q.defer();
            gates.push(gate);
            return gate.promise;
        },
        now: () => 'now'
    }, { maxPendingCalls: 3 });
    const waiting = [0, 1, 2].map(() => peer.call('', 'post', ['wait', []]));
    const refused = await peer.call('', 'post', ['now', []]);
    t.is(rejectionMessage(refused), 'too many pending calls: the limit of 3 calls served at once is reached');
    t.is(peer.handle.stats().callsRefused, 1);
    t.is(peer.errors[0].code, 'ELIMIT');
    gates[0].resolve('first');
    t.is(await waiting[0], 'first');
    t.is(await peer.call('', 'post', ['now', []]), 'now', 'an answer made room');
    gates[1].resolve(1);
    gates[2].reject(new Error('two'));
    t.is(await waiting[1], 1);
    t.is(rejectionMessage(await waiting[2]), 'two', 'a rejection frees its place too');
    t.deepEqual(await Promise.all([1, 2, 3].map(() => peer.call('', 'post', ['now', []]))), ['now', 'now', 'now']);
});

test('the default pending-calls limit is 10,000', async (t) => {
    const gate = Q.defer();
    const peer = rawPeer({ wait: () => gate.promise, now: () => 'now' });
    const waiting = [];
    for (let i = 0; i < 10000; i++) waiting.push(peer.call('', 'post', ['wait', []]));
    t.is(rejectionMessage(await peer.call('', 'post', ['now', []])),
        'too many pending calls: the limit of 10000 calls served at once is reached');
    gate.resolve('done');
    t.is((await Promise.all(waiting)).length, 10000);
    t.is(await peer.call('', 'post', ['now', []]), 'now');
});

test('exports past maxExports fail the answer that needed one, not the connection', async (t) => {
    const peer = rawPeer({ fn: () => () => 1, plain: () => ({ a: 1 }) }, { maxExports: 2 });
    t.is((await peer.call('', 'post', ['fn', []])).type, 'function');
    t.is((await peer.call('', 'post', ['fn', []])).type, 'function');
    t.is(rejectionMessage(await peer.call('', 'post', ['fn', []])),
        'too many exported references: the limit of 2 is reached');
    t.deepEqual(await peer.call('', 'post', ['plain', []]), { a: 1 });
    const stats = peer.handle.stats();
    t.is(stats.exports, 2);
    t.is(stats.exportsRefused, 1);
    t.is(stats.slots, 1 + 2, 'the root and the two exports: the refused value kept no slot');
});

test('our own call whose arguments need an export past the limit rejects locally', async (t) => {
    const { port1, port2 } = new MessageChannel();
    const kept = []; // the server holds the callback, so it is never released
    const server = open(port1, { call: (f) => { kept.push(f); return f(); } });
    const client = open(port2, {}, { maxExports: 1 });
    t.is(await client.remote.invoke('call', () => 7), 7);
    // The answer the client kept for the server's call of f() is released.
    while (client.stats().answers) await new Promise((resolve) => setTimeout(resolve, 20));
    const slots = client.stats().slots;
    await t.throwsAsync(client.remote.invoke('call', () => 8), {
        message: 'too many exported references: the limit of 1 is reached'
    });
    t.is(client.stats().exportsRefused, 1);
    t.is(client.stats().slots, slots, 'neither the refused value nor its call kept a slot');
    server.close();
});

test('with an LRU capacity no larger than maxExports, old exports are evicted instead', async (t) => {
    const peer = rawPeer({ fn: () => () => 1 }, { capacity: 2, maxExports: 2 });
    for (let i = 0; i < 5; i++) t.is((await peer.call('', 'post', ['fn', []])).type, 'function');
    t.is(peer.handle.stats().exports, 2);
    t.is(peer.handle.stats().exportsRefused, 0);
});
