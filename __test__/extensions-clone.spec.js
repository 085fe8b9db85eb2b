'use strict';

// The "clone" extension: between two rs peers on a Node MessagePort or
// Worker, a large plain-data answer crosses as a structured clone, both
// ways; small or non-plain answers, other ports, tracing and 0.6.1 peers
// keep the text; a received clone is checked like decoded text.

const test = require('ava');
const { MessageChannel, Worker } = require('worker_threads');
const Connection = require('..');

// Enough arrays and objects to be cloned (lib/extensions/clone.js).
function big(tag) {
    const records = [];
    for (let i = 0; i < 400; i++) records.push({ i, tag, list: [i, `r${i}`], at: { x: -i } });
    return { tag, records };
}

// The messages each end posts, as 'text' or 'clone'.
function spy(port) {
    const sent = [];
    const post = port.postMessage.bind(port);
    port.postMessage = (message) => {
        sent.push(typeof message === 'string' ? 'text' : 'clone');
        return post(message);
    };
    return sent;
}

async function pair(aOptions, bOptions) {
    const { port1, port2 } = new MessageChannel();
    const sentA = spy(port1);
    const sentB = spy(port2);
    const a = Connection.open(port1, { value: () => big('a'), small: () => [1] }, aOptions);
    const b = Connection.open(port2, { value: () => big('b'), small: () => [2] }, bOptions);
    await a.remote.invoke('small'); // the hellos have crossed
    await b.remote.invoke('small');
    return { a, b, sentA, sentB, close: () => port1.close() };
}

test('a large plain answer crosses as a clone, both ways, equal to the text path', async (t) => {
    const { a, b, sentA, sentB, close } = await pair();
    t.teardown(close);
    t.true(a.peerHas('clone') && b.peerHas('clone'));
    sentA.length = sentB.length = 0;
    const fromB = await a.remote.invoke('value');
    t.deepEqual(sentB.filter((kind) => kind === 'clone'), ['clone'], 'B answered with a clone');
    const fromA = await b.remote.invoke('value');
    t.deepEqual(sentA.filter((kind) => kind === 'clone'), ['clone'], 'A answered with a clone');
    t.deepEqual(fromB, big('b'));
    t.deepEqual(fromA, big('a'));
    t.true(Object.is(fromB.records[0].at.x, -0), '-0 kept: both agreed on values');
    // Small answers stay text (so do asks, releases and hellos).
    sentA.length = 0;
    t.deepEqual(await b.remote.invoke('small'), [1]);
    t.false(sentA.includes('clone'));
    close();
});

test('shared objects keep their identity; a cycle or a function inside goes as text', async (t) => {
    const shared = { s: 1 };
    const value = big('x');
    value.first = shared;
    value.second = shared;
    const cyclic = big('c');
    cyclic.self = cyclic;
    const withFunction = big('f');
    withFunction.f = () => 'called';
    const { port1, port2 } = new MessageChannel();
    t.teardown(() => port1.close());
    const sent = spy(port2);
    const a = Connection.open(port1, {});
    Connection.open(port2, { value: () => value, cyclic: () => cyclic, withFunction: () => withFunction });
    const copy = await a.remote.invoke('value');
    t.is(sent.at(-1), 'clone');
    t.is(copy.first, copy.second);
    t.is(copy.records.length, 400);
    const cycle = await a.remote.invoke('cyclic');
    t.is(sent.at(-1), 'text');
    t.is(cycle.self, cycle, 'QSON text keeps the cycle');
    const viaText = await a.remote.invoke('withFunction');
    t.is(sent.at(-1), 'text');
    t.is(await viaText.f(), 'called');
});

test('a worker thread peer: the clone crosses threads', async (t) => {
    const worker = new Worker(`
        const { parentPort } = require('worker_threads');
        const Connection = require(${JSON.stringify(require.resolve('..'))});
        const records = [];
        for (let i = 0; i < 1000; i++) records.push({ i, y: -i, name: 'n' + i });
        Connection.open(parentPort, { value: () => ({ records }) });
    `, { eval: true });
    const handle = Connection.open(worker, {});
    const value = await handle.remote.invoke('value');
    t.true(handle.peerHas('clone'));
    t.is(value.records.length, 1000);
    t.true(Object.is(value.records[0].y, -0));
    t.is(value.records[999].name, 'n999');
    await worker.terminate();
});

test('not offered on other ports, while tracing, or without values when -0 is inside', async (t) => {
    // A duck-typed postMessage port may carry only text.
    const { port1, port2 } = new MessageChannel();
    const duck = { postMessage: (m) => port1.postMessage(m), onmessage: null };
    port1.on('message', (data) => duck.onmessage && duck.onmessage({ data }));
    const a = Connection.open(duck, {});
    Connection.open(port2, { value: () => big('d') });
    t.deepEqual(await a.remote.invoke('value'), big('d'));
    t.false(a.peerHas('clone'));
    port1.close();

    const traced = await pair({ trace: () => {} });
    t.false(traced.a.peerHas('clone'));
    traced.close();

    // Without values, -0 must arrive as 0 (QSON), which a clone would not do.
    const plain = await pair({ extensions: ['clone'] }, { extensions: ['clone'] });
    t.true(plain.a.peerHas('clone'));
    plain.sentB.length = 0;
    const value = await plain.a.remote.invoke('value');
    t.true(Object.is(value.records[1].at.x, -1));
    t.true(Object.is(value.records[0].at.x, 0));
    t.false(plain.sentB.includes('clone'));
    plain.close();
});

test('a received clone that is not plain data within the limits rejects its question; unoffered, it is malformed', async (t) => {
    const { port1, port2 } = new MessageChannel();
    const errors = [];
    const a = Connection.open(port1, {}, { maxDepth: 20, onerror: (e) => errors.push(e.code) });
    const asked = [];
    port2.on('message', (text) => asked.push(text));
    const answer = (question, value) => {
        const to = JSON.parse(question).from;
        port2.postMessage({ envelope: `{"type":"resolve","to":"${to}","resolution":null}`, value });
    };
    const hello = '{"type":"hello","version":1,"extensions":["pipeline","release","identity","values","batch","clone"]}';
    port2.postMessage(hello);
    let deep = [];
    for (let i = 0; i < 50; i++) deep = [deep];
    const calls = [a.remote.invoke('m'), a.remote.invoke('deep'), a.remote.invoke('ok')];
    await until(() => asked.filter((text) => text.includes('"type":"send"')).length >= 3);
    const sends = asked.filter((text) => text.includes('"type":"send"'));
    answer(sends[0], { m: new Map([[1, 2]]) });
    answer(sends[1], deep);
    answer(sends[2], { fine: [1, { two: 2 }] });
    await t.throwsAsync(calls[0], { message: /plain data within the depth and size limits/ });
    await t.throwsAsync(calls[1], { message: /plain data within the depth and size limits/ });
    t.deepEqual(await calls[2], { fine: [1, { two: 2 }] });
    port1.close();

    // A connection that did not offer clone reports such a message.
    const other = new MessageChannel();
    const reported = [];
    Connection.open(other.port1, {}, { extensions: false, onerror: (e) => reported.push(e.code) });
    other.port2.postMessage({ envelope: '{"type":"resolve","to":"X","resolution":null}', value: 1 });
    await until(() => reported.length > 0);
    t.deepEqual(reported, ['EMALFORMED']);
    other.port1.close();
});

async function until(condition) {
    for (let i = 0; i < 400 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
    if (!condition()) throw new Error('condition never held');
}
