'use strict';

// Pipelining before the peer's hello (docs/PROTOCOL-EXTENSIONS.md, "Before
// the hello"): on a fresh connection a chain sent at once is held until the
// peer's hello, then pipelined; with a 0.6.1 peer (no hello, ever) the held
// messages go as 0.6.1 sends them, with 0.6.1's wire text. Messages to one
// target keep their order across held, pipelined and direct sends.

const test = require('ava');
const v8 = require('v8');
const vm = require('vm');
const Q = require('q');
const Connection = require('..');
const { Connection: Connection061 } = require('./helpers/q-connection-061');
const { recordingLink, envelopes, types, sleep, until } = require('./helpers/wire');
const { Chain, Log, chain } = require('./helpers/chain');

const DELAY = 30;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

function service() {
    const log = new Log();
    return { start: () => new Chain(0), log: () => log, theLog: log };
}

/** Answers that arrived at A before A's last send: 0 when no call waited for one. */
function answersBeforeLastSend(timeline) {
    const lastSend = timeline.map((e) => e.phase === 'put' && e.dir === 'ab' && types([e.text]).includes('send')).lastIndexOf(true);
    return timeline.slice(0, lastSend).filter((e) => e.phase === 'arrive' && e.dir === 'ba' && types([e.text]).includes('resolve')).length;
}

test('fresh rs<->rs: a chain sent before any round trip is pipelined once the hello arrives', async (t) => {
    const link = recordingLink({ delay: DELAY });
    const a = Connection.open(link.a, null);
    Connection.open(link.b, service());
    t.false(a.peerHas('pipeline'), 'nothing heard yet');
    t.is(await chain(a.remote), 3);
    // The first call went at once; the 4 held ones went when B's hello
    // arrived, each to the previous call's question id.
    const sends = envelopes(link.log.ab).filter((m) => m.type === 'send');
    t.is(sends.length, 5);
    t.is(sends[0].to, '');
    for (let i = 1; i < sends.length; i++) t.is(sends[i].to, sends[i - 1].from);
    // No call waited for an answer: one round trip (plus the hello's half).
    t.is(answersBeforeLastSend(link.timeline), 0);
    const firstArrival = link.timeline.filter((e) => e.dir === 'ba' && e.phase === 'arrive')[0];
    t.is(types([firstArrival.text])[0], 'hello');
    // B's hello, then its reply to A's hello (saying it heard it), then the answers.
    t.deepEqual(types(link.log.ba), ['hello', 'hello', 'resolve', 'resolve', 'resolve', 'resolve', 'resolve']);
    t.deepEqual(envelopes(link.log.ba).slice(0, 2).map((hello) => hello.heard), [undefined, true]);
    link.close(new Error('done'));
});

test('fresh rs<->rs with the extension off on one side: a round trip per call, as 0.6.1', async (t) => {
    const link = recordingLink({ delay: 5 });
    const a = Connection.open(link.a, null);
    Connection.open(link.b, service(), { extensions: ['values'] });
    t.is(await chain(a.remote), 3);
    const sends = envelopes(link.log.ab).filter((m) => m.type === 'send');
    t.is(sends.length, 5);
    t.false(sends.slice(1).some((send, i) => send.to === sends[i].from), 'nothing sent to a question id');
    t.is(answersBeforeLastSend(link.timeline), 4);
    link.close(new Error('done'));
});

// Ids of 0.6.1 (8-4-4-12) and of q-connection-rs (8-4-4-4-12), replaced by
// order of first appearance.
const ID = /[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-(?:[0-9A-F]{4}-)?[0-9A-F]{12}/g;

function normalised(texts) {
    const ids = new Map();
    return texts.map((text) => text.replace(ID, (id) => {
        if (!ids.has(id)) ids.set(id, ids.size);
        return '#' + ids.get(id);
    }));
}

/** Runs `script` from `client` ('rs' or '0.6.1') against a 0.6.1 service; returns the wire in order, ids normalised. */
async function against061(client, script) {
    const link = recordingLink({ delay: 5 });
    const root = service();
    Connection061(link.b, root);
    const remote = client === 'rs' ? Connection.open(link.a, null).remote : Connection061(link.a, null);
    const result = await script(remote, root);
    await sleep(20);
    const wire = link.timeline.filter((e) => e.phase === 'put').map((e) => `${e.dir} ${e.text}`);
    return { result, wire: normalised(wire) };
}

test('fresh rs->0.6.1: the same chain works and the wire is 0.6.1 talking to 0.6.1, after the hello', async (t) => {
    const rs = await against061('rs', chain);
    const old = await against061('0.6.1', chain);
    t.is(rs.result, 3);
    t.is(old.result, 3);
    t.regex(rs.wire[0], /^ab \{"type":"hello"/);
    t.deepEqual(rs.wire.slice(1), old.wire);
});

test('fresh rs->0.6.1: messages held before the first answer keep their order and text', async (t) => {
    const script = async (remote, root) => {
        const log = remote.invoke('log');
        const sent = [];
        for (let i = 0; i < 5; i++) sent.push(log.invoke('push', i)); // held
        // (0.6.1's far promises fulfil to themselves: `await log` would never settle.)
        await Q.all(sent);
        for (let i = 5; i < 8; i++) sent.push(log.invoke('push', i)); // direct
        await Q.all(sent);
        return root.theLog.list();
    };
    const rs = await against061('rs', script);
    const old = await against061('0.6.1', script);
    t.deepEqual(rs.result, [...Array(8).keys()]);
    t.deepEqual(rs.wire.slice(1), old.wire);
});

test('E-order across held, pipelined and direct messages to one target', async (t) => {
    const link = recordingLink({ delay: DELAY });
    const root = service();
    const a = Connection.open(link.a, null);
    Connection.open(link.b, root);
    const parked = Q.defer(); // B answers `log` when the test says so
    root.parkedLog = () => parked.promise;
    const log = a.remote.invoke('parkedLog');
    const sent = [];
    for (let i = 0; i < 10; i++) sent.push(log.invoke('push', i)); // held: no hello yet
    t.false(a.peerHas('pipeline'));
    await until(() => a.peerHas('pipeline')); // B's hello has arrived, log's answer has not
    for (let i = 10; i < 20; i++) sent.push(log.invoke('push', i)); // pipelined at once
    parked.resolve(root.theLog);
    await log;
    for (let i = 20; i < 30; i++) sent.push(log.invoke('push', i)); // to the answer's export
    await Q.all(sent);
    t.deepEqual(root.theLog.list(), [...Array(30).keys()]);
    // (filter, not find: the collections shims 0.6.1 loads change Array#find.)
    const logId = envelopes(link.log.ab).filter((m) => m.type === 'send' && m.args[0] === 'parkedLog')[0].from;
    const toQuestion = envelopes(link.log.ab).filter((m) => m.type === 'send' && m.to === logId);
    t.is(toQuestion.length, 20, 'held and later ones pipelined to the question');
    link.close(new Error('done'));
});

test('a chain on a held result is held with it and pipelined in order', async (t) => {
    const link = recordingLink({ delay: DELAY });
    const root = service();
    const a = Connection.open(link.a, null);
    Connection.open(link.b, root);
    const start = a.remote.invoke('start');
    const results = [start.invoke('next').invoke('next').invoke('value'), start.invoke('value'), chain(a.remote)];
    t.deepEqual(await Q.all(results), [2, 0, 3]);
    t.is(answersBeforeLastSend(link.timeline), 0);
    link.close(new Error('done'));
});

test('a question asked before the hello and never awaited is cancelled once collected, if the hello agreed', async (t) => {
    const link = recordingLink({ delay: 5 });
    const a = Connection.open(link.a, null);
    const b = Connection.open(link.b, { park: () => Q.defer().promise, start: () => new Chain(0) });
    const b061 = recordingLink({ delay: 5 });
    Connection061(b061.b, { park: () => Q.defer().promise });
    const old = Connection.open(b061.a, null);
    (() => {
        a.remote.invoke('park'); // dropped at once, before any hello
        old.remote.invoke('park');
    })();
    t.is(a.stats().questions, 1);
    await until(() => a.peerHas('pipeline'));
    await until(() => {
        gc();
        return a.stats().questions === 0;
    });
    await until(() => b.stats().answers === 0, 2000); // the release reached B
    t.true(envelopes(link.log.ab).some((m) => m.type === 'release' || m.release), 'released');
    // With 0.6.1 nothing is cancelled: the question waits, as 0.6.1's does.
    for (let i = 0; i < 3; i++) {
        gc();
        await sleep(20);
    }
    t.is(old.stats().questions, 1);
    t.is(await a.remote.invoke('start').invoke('value'), 0);
    link.close(new Error('done'));
});
