'use strict';

// True pipelining between two q-connection-rs peers (docs/PROTOCOL-EXTENSIONS.md):
// round trips and messages counted over a link that delays every message,
// E-order per target, release of answers, cancellation and `timeout`, and a
// mixed chain 0.6.1 -> rs -> rs.

const test = require('ava');
const Q = require('q');
const Connection = require('..');
const { Connection: Connection061 } = require('./helpers/q-connection-061');
const { recordingLink, envelopes, types, sleep, until } = require('./helpers/wire');
const { Chain, Log, chain } = require('./helpers/chain');

const DELAY = 50;

function service() {
    const log = new Log();
    const parked = [];
    return {
        start: () => new Chain(0),
        log: () => log,
        park: () => {
            const deferred = Q.defer();
            parked.push(deferred);
            return deferred.promise;
        },
        parked,
    };
}

/** Opens a pair over a delayed link and waits until both hellos have crossed. */
async function pair(options = {}, root = service()) {
    const link = recordingLink({ delay: options.delay === undefined ? DELAY : options.delay });
    const a = Connection.open(link.a, null, options.a);
    const b = Connection.open(link.b, root, options.b);
    await sleep((options.delay === undefined ? DELAY : options.delay) + 10);
    return { link, a, b, root };
}

/** Ids released in release messages and in sends' `release` fields. */
const releasedIds = (log) =>
    envelopes(log).flatMap((m) => Object.keys((m.type === 'release' ? m.ids : m.type === 'send' && m.release) || {}));

test('a chain of 5 dependent calls costs one round trip: all sends precede the first answer', async (t) => {
    const { link, a, b } = await pair();
    t.true(a.peerHas('pipeline'));
    const started = Date.now();
    t.is(await chain(a.remote), 3);
    const elapsed = Date.now() - started;
    // All 5 sends went out before anything else but the hello and the
    // reply to B's (a release of the answers may follow).
    t.deepEqual(types(link.log.ab).slice(0, 7), ['hello', 'hello', 'send', 'send', 'send', 'send', 'send']);
    // Each send of the chain goes to the previous call's question id.
    const sends = envelopes(link.log.ab).filter((m) => m.type === 'send');
    for (let i = 1; i < sends.length; i++) t.is(sends[i].to, sends[i - 1].from);
    // One round trip is 2 * DELAY; allow 2.5 round trips for a slow machine.
    t.true(elapsed < 5 * DELAY, `took ${elapsed} ms with a one-way delay of ${DELAY} ms`);
    await until(() => b.stats().answers === 0);
    // Every answer was released (one message may carry several ids, and a
    // later call may carry them in its `release`), so the answering side
    // keeps nothing.
    const released = releasedIds(link.log.ab);
    t.deepEqual(released.sort(), sends.map((send) => send.from).sort());
    t.deepEqual(types(link.log.ba), ['hello', 'hello', 'resolve', 'resolve', 'resolve', 'resolve', 'resolve']);
    // Port messages: the hello, the reply to B's, the first send at once and
    // the other 4 in one batch (lib/batch.js), then releases, at most one
    // per turn in which answers arrived.
    t.deepEqual(types([link.log.ab[2]]), ['send']);
    t.deepEqual(types([link.log.ab[3]]), ['send', 'send', 'send', 'send']);
    t.true(link.log.ab.length <= 4 + 5, `${link.log.ab.length} port messages`);
    t.is(b.stats().answers, 0);
    t.is(a.stats().questions, 0);
    link.close(new Error('done'));
});

test('without the extension the same chain takes a round trip per call', async (t) => {
    const { link, a } = await pair({ a: { extensions: ['values'] } });
    t.false(a.peerHas('pipeline'));
    const started = Date.now();
    t.is(await chain(a.remote), 3);
    t.true(Date.now() - started >= 5 * 2 * DELAY - 10);
    t.false(types(link.log.ab).includes('release'));
    link.close(new Error('done'));
});

test('E-order: messages to one target arrive in the order sent, across its resolution', async (t) => {
    const { link, a } = await pair({ delay: 5 });
    const log = a.remote.invoke('log');
    const sent = [];
    for (let i = 0; i < 30; i++) {
        sent.push(log.invoke('push', i));
        if (i === 10) await log; // the answer arrives: later pushes go to its export
        if (i === 20) await sleep(1);
    }
    await Q.all(sent);
    t.deepEqual(await log.invoke('list'), [...Array(30).keys()]);
    link.close(new Error('done'));
});

test('E-order across a promise that resolves to a reference on a third side', async (t) => {
    // A asks B for C's log; A pushes before and after B's answer arrives.
    const bc = recordingLink({ delay: 5 });
    const c = service();
    Connection.open(bc.b, c);
    const fromB = Connection.open(bc.a, null);
    const ab = recordingLink({ delay: 5 });
    const a = Connection.open(ab.a, null);
    Connection.open(ab.b, { far: () => fromB.remote.invoke('log') });
    await sleep(20);
    const log = a.remote.invoke('far');
    const sent = [];
    for (let i = 0; i < 20; i++) {
        sent.push(log.invoke('push', i));
        if (i === 7) await log;
    }
    await Q.all(sent);
    t.deepEqual(c.log().list(), [...Array(20).keys()]);
    ab.close(new Error('done'));
    bc.close(new Error('done'));
});

test('timeout rejects a call with a clear error; the answering side drops it and never answers', async (t) => {
    const { link, a, b, root } = await pair({ delay: 5, a: { timeout: 60 } });
    const error = await t.throwsAsync(a.remote.invoke('park'));
    t.is(error.message, 'q-connection-rs: call "post" got no answer within 60 ms (option timeout)');
    t.is(a.stats().questions, 0);
    await until(() => b.stats().answers === 0); // the release cancelled the kept answer
    root.parked[0].resolve('too late');
    await sleep(30);
    t.false(types(link.log.ba).includes('resolve'), 'no resolve for a cancelled answer');
    t.is(await a.remote.invoke('start').invoke('value'), 0, 'the connection serves on');
    t.throws(() => Connection.open(recordingLink().a, null, { timeout: 'soon' }), { instanceOf: TypeError });
    link.close(new Error('done'));
});

test('timeout works with a 0.6.1 peer too; its late answer is ignored, not lost', async (t) => {
    const link = recordingLink({ delay: 5 });
    const root = service();
    Connection061(link.b, root);
    const lost = [];
    const a = Connection.open(link.a, null, { timeout: 40, onmessagelost: (m) => lost.push(m) });
    await t.throwsAsync(a.remote.invoke('park'), { message: /no answer within 40 ms/ });
    root.parked[0].resolve('late');
    await sleep(30);
    t.deepEqual(lost, []);
    t.is(a.stats().lost, 0);
    t.false(types(link.log.ab).includes('release'), '0.6.1 gets no release');
});

test('mixed chain 0.6.1 -> rs -> rs: plain wire on the first link, pipelined on the second', async (t) => {
    const bc = recordingLink({ delay: 5 });
    Connection.open(bc.b, service());
    const toC = Connection.open(bc.a, null);
    const ab = recordingLink({ delay: 5 });
    Connection.open(ab.b, {
        relay: () => chain(toC.remote),
        far: () => toC.remote.invoke('start'),
    });
    const a = Connection061(ab.a, null);
    t.is(await a.invoke('relay'), 3);
    t.is(await a.invoke('far').invoke('next').invoke('value'), 1);
    t.deepEqual([...new Set(types(ab.log.ab))], ['send'], '0.6.1 sends only sends');
    t.is(types(ab.log.ba)[0], 'hello');
    t.false(types(ab.log.ba).includes('release'), 'no release to 0.6.1');
    // B to C: the relayed chain went out as 5 sends before any answer
    // (after B's hello and its reply to C's).
    const bcTypes = types(bc.log.ab);
    t.deepEqual(bcTypes.slice(0, 7), ['hello', 'hello', 'send', 'send', 'send', 'send', 'send']);
    // The answers of the first chain ride with the second chain's first send.
    t.true(releasedIds(bc.log.ab).length >= 5);
    bc.close(new Error('done'));
});
