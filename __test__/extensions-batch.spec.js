'use strict';

// The "batch" extension (lib/batch.js): between two rs peers, the envelopes
// sent in one tick travel in one port message; with a 0.6.1 peer, or when
// either side does not offer it, every message is one plain envelope.

const test = require('ava');
const { MessageChannel } = require('worker_threads');
const Connection = require('..');
const { Connection: Connection061 } = require('./helpers/q-connection-061');

const service = { add: (a, b) => a + b };
const WITHOUT_BATCH = ['pipeline', 'release', 'identity', 'values'];

// A MessageChannel whose port1 records every text it posts.
function recordedChannel(t) {
    const { port1, port2 } = new MessageChannel();
    const sent = [];
    const post = port1.postMessage.bind(port1);
    port1.postMessage = (text) => {
        sent.push(text);
        post(text);
    };
    t.teardown(() => {
        port1.close();
        port2.close();
    });
    return { port1, port2, sent };
}

async function hundredCalls(t, remote) {
    const sums = await Promise.all(Array.from({ length: 100 }, (_, i) => remote.invoke('add', i, 1)));
    t.deepEqual(sums, Array.from({ length: 100 }, (_, i) => i + 1));
}

test('two rs peers: of 100 calls made in one tick, the first goes at once, the other 99 in one message', async (t) => {
    const { port1, port2, sent } = recordedChannel(t);
    Connection.open(port2, service);
    const client = Connection.open(port1, null);
    await client.remote.invoke('add', 0, 0); // the hellos have crossed
    t.true(client.peerHas('batch'));
    sent.length = 0;
    await hundredCalls(t, client.remote);
    t.is(sent.length, 2);
    // The first carries the release of the first call's answer (pipeline;
    // docs/PROTOCOL-EXTENSIONS.md).
    const first = JSON.parse(sent[0]);
    t.is(first.type, 'send');
    t.is(Object.keys(first.release).length, 1);
    const pieces = sent[1].split('\n');
    t.is(pieces[0], '', 'a batch starts with a newline');
    const calls = pieces.slice(1).map((piece) => JSON.parse(piece));
    t.deepEqual(calls.map((call) => call.type), Array(99).fill('send'));
    t.is(client.stats().sendsOut, 101);
});

test('two rs peers: a call made after an answer arrived is posted at once, not after a microtask', async (t) => {
    const { port1, port2, sent } = recordedChannel(t);
    Connection.open(port2, service);
    const client = Connection.open(port1, null);
    await client.remote.invoke('add', 0, 0);
    t.true(client.peerHas('batch'));
    for (let i = 0; i < 20; i++) {
        sent.length = 0;
        const sum = client.remote.invoke('add', i, 1);
        t.is(sent.length, 1, 'posted before invoke returned');
        t.is(JSON.parse(sent[0]).type, 'send');
        t.is(await sum, i + 1);
    }
    // A second call in the same turn waits for the microtask's batch.
    sent.length = 0;
    const both = [client.remote.invoke('add', 1, 1), client.remote.invoke('add', 2, 1)];
    t.is(sent.length, 1);
    await Promise.resolve();
    t.is(sent.length, 2);
    t.deepEqual(await Promise.all(both), [2, 3]);
});

test('not offered by one side: every message is one envelope', async (t) => {
    const { port1, port2, sent } = recordedChannel(t);
    Connection.open(port2, service, { extensions: WITHOUT_BATCH });
    const client = Connection.open(port1, null);
    await client.remote.invoke('add', 0, 0);
    t.false(client.peerHas('batch'));
    sent.length = 0;
    await hundredCalls(t, client.remote);
    // One envelope per message: the 100 calls, the first carrying the
    // release of the first call's answer (pipeline).
    t.deepEqual(sent.map((text) => JSON.parse(text).type), Array(100).fill('send'));
    t.truthy(JSON.parse(sent[0]).release);
});

test('a 0.6.1 peer gets one plain envelope per message', async (t) => {
    const { port1, port2, sent } = recordedChannel(t);
    Connection061(port2, service);
    const client = Connection.open(port1, null);
    await hundredCalls(t, client.remote);
    t.false(client.peerHas('batch'));
    t.is(sent.length, 101); // the hello, then the calls
    t.true(sent.every((text) => text[0] === '{'));
});

test('a batch from the peer is received piece by piece, a malformed piece refused alone', async (t) => {
    const { port1, port2 } = new MessageChannel();
    t.teardown(() => port2.close());
    const errors = [];
    Connection.open(port1, service, { onerror: (error) => errors.push(error.code) });
    const answers = [];
    port2.on('message', (text) => answers.push(text));
    const call = (from, a) => `{"type":"send","to":"","from":"${from}","op":"post","args":["add",[${a},1]]}`;
    port2.postMessage('\n' + [call('A', 1), '{"type":', call('B', 2)].join('\n'));
    while (answers.filter((text) => text.includes('resolve')).length < 2) {
        await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const resolutions = answers
        .flatMap((text) => text.split('\n'))
        .filter((text) => text.startsWith('{') && JSON.parse(text).type === 'resolve')
        .map((text) => JSON.parse(text));
    t.deepEqual(resolutions.map((r) => [r.to, r.resolution]), [['A', 2], ['B', 3]]);
    t.deepEqual(errors, ['EMALFORMED']);
});
