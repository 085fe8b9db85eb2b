'use strict';

// The scenarios every transport runs: each seed README example and each row
// of PROTOCOL.md, written once against `env` and run by engine-worker.spec.js
// (a real worker over a MessageChannel), engine-queues.spec.js (Q queues) and
// interop.spec.js (q-connection 0.6.1 on one side).
//
// A scenario is { title, run(t, env), when?(env) }:
// - env.connect(opts?) -> peer (see ./peers.js): { remote, handle?, lost,
//   inject(text), peerCloseCause(message), Q }; opts: { local, options,
//   farOptions }. The far root is __test__/fixtures/service.js.
// - env.impl / env.caller: "rs" or "0.6.1", who serves and who calls;
//   env.Q: the caller's Q (q 1.x for rs, q 0.9.7 for 0.6.1).
// - when(env): false leaves the scenario out of that pairing (say why).
// Scenarios never `await` a promise for a far reference when the caller is
// 0.6.1 (it fulfils to itself); they pipeline on it instead.

const Q = require('q');
const { Thing } = require('../fixtures/service');

const rsCaller = (env) => env.caller === 'rs';

/** The rejection reason of `promise` (through its own then); fails if it fulfils. */
function rejection(promise) {
    return promise.then((value) => {
        throw new Error('expected a rejection, got ' + String(value));
    }, (reason) => reason);
}

/**
 * Resolves with the first truthy result of `probe()` (which may return a
 * promise), polling; rejects after a generous deadline.
 */
async function until(probe, what) {
    const deadline = Date.now() + 20000;
    for (;;) {
        const result = await probe();
        if (result) return result;
        if (Date.now() > deadline) throw new Error('gave up waiting for ' + what);
        await new Promise((resolve) => setTimeout(resolve, 5));
    }
}

const scenarios = [
    {
        title: 'README: the counter answers invoke("next") in order',
        async run(t, env) {
            const { remote } = env.connect();
            const ids = await Promise.all([remote.invoke('next'), remote.invoke('next'), remote.invoke('next')]);
            t.deepEqual(ids, [0, 1, 2]);
        },
    },
    {
        title: 'README ops chart: get, set, del, post, invoke, fapply, fcall, keys',
        async run(t, env) {
            const { remote } = env.connect();
            t.is(await remote.get('foo'), 'bar');
            t.is(await remote.set('foo', 'baz'), undefined);
            t.is(await remote.get('foo'), 'baz');
            t.is(await remote.del('foo'), undefined);
            t.is(await remote.get('foo'), undefined);
            t.false((await remote.keys()).includes('foo'));
            t.is(await remote.post('add', [1, 2]), 3);
            t.is(await remote.invoke('add', 2, 3), 5);
            t.is(await remote.get('adder').fapply([1, 2]), 3);
            t.is(await remote.get('adder').fcall(2, 2), 4);
            const keys = await remote.keys();
            t.true(['next', 'add', 'echo', 'makeThing'].every((key) => keys.includes(key)));
        },
    },
    {
        title: 'post with no name calls the target; apply passes thisp (rs: only unguarded)',
        async run(t, env) {
            const { remote } = env.connect();
            t.is(await remote.get('adder').post(null, [3, 4]), 7);
            t.is(await remote.get('adder').post(undefined, [1, 1]), 2);
            const thisKeys = (peer) => peer.remote.invoke('box', 'thisKeys').get('promise')
                .dispatch('apply', [{ k: 1, j: 2 }, []]);
            // q-connection-rs's guard (lib/dispatch.js) ignores a peer's thisp
            // unless the connection is opened with `guard: false`.
            t.deepEqual(await thisKeys({ remote }), env.impl === 'rs' ? [] : ['k', 'j']);
            t.deepEqual(await thisKeys(env.connect({ farOptions: { guard: false } })), ['k', 'j']);
        },
    },
    {
        title: 'args decode {"%": unknown} and truthy {"!": r} to rejected promises',
        async run(t, env) {
            const peer = env.connect();
            const ask = (from, arg) => peer.inject(JSON.stringify({
                type: 'send', to: '', from, op: 'post', args: ['outcome', [arg]],
            }));
            ask('Q-PERCENT', { '%': 'bogus' });
            ask('Q-BANG', { '!': { message: 'm', stack: 's' } });
            await until(() => peer.lost.length === 2, 'both answers');
            const answers = Object.fromEntries(peer.lost.map((message) => [message.to, message.resolution]));
            t.deepEqual(answers['Q-PERCENT'], ['rejected', 'Unrecognized type: bogus', 'TypeError']);
            t.deepEqual(answers['Q-BANG'].slice(0, 2), ['rejected', 'm']);
        },
    },
    {
        title: 'op "put" (older Q) sets; its answer to an unknown id reaches onmessagelost',
        // 0.6.1 itself refuses "put": its q 0.9.7 knows only "set".
        when: (env) => env.impl === 'rs',
        async run(t, env) {
            const peer = env.connect();
            peer.inject(JSON.stringify({ type: 'send', to: '', from: 'PUT-QUESTION', op: 'put', args: ['foo', 7] }));
            await until(() => peer.lost.length > 0, 'the lost answer');
            t.deepEqual(peer.lost, [{ type: 'resolve', to: 'PUT-QUESTION', resolution: { '%': 'undefined' } }]);
            t.is(await peer.remote.get('foo'), 7);
        },
    },
    {
        title: 'QSON specials cross both ways: undefined, NaN, ±Infinity, -0 as 0 (rs to rs: as -0)',
        async run(t, env) {
            const { remote } = env.connect();
            const value = [undefined, NaN, Infinity, -Infinity, null, 0, -1.5, 'x', true, { nested: undefined }];
            const back = await remote.invoke('echo', value);
            t.is(back.length, value.length);
            t.true(back.every((v, i) => i === 9 || Object.is(v, value[i])));
            t.true('nested' in back[9] && back[9].nested === undefined);
            // -0 is sent as 0 (JSON), unless both sides are rs and agreed on
            // "values" (docs/PROTOCOL-EXTENSIONS.md), which keeps it.
            const zero = await remote.invoke('echo', -0);
            t.true(Object.is(zero, 0) || (env.impl === 'rs' && env.caller === 'rs' && Object.is(zero, -0)));
            t.is(await remote.invoke('echo', undefined), undefined);
        },
    },
    {
        title: 'keys with @ ! % $ / \\ are escaped and come back unchanged',
        async run(t, env) {
            const { remote } = env.connect();
            const value = { '@': 1, '!x': 2, '%': 3, '$ref': 4, '/a/b': 5, '\\': 6, 'a@b': 7, '@@': 8, '\\@': 9, '%!': { '$': { '@': 10 } } };
            t.deepEqual(await remote.invoke('echo', value), value);
        },
    },
    {
        title: 'cycles and shared sub-objects survive, both ways',
        async run(t, env) {
            const { remote } = env.connect();
            const v = await remote.invoke('cyclic');
            t.is(v.self, v);
            t.is(v.a, v.b);
            t.is(v.list[0], v.a);
            t.is(v.a.n, 1);
            const shared = { n: 2 };
            const sent = { a: shared, b: shared };
            sent.self = sent;
            const seen = await remote.invoke('describe', sent);
            t.true(seen.selfCycle);
            t.true(seen.shared);
            const back = await remote.invoke('echo', sent);
            t.is(back.self, back);
            t.is(back.a, back.b);
        },
    },
    {
        title: 'a function passed as an argument is called back and its promise answers',
        async run(t, env) {
            const { remote } = env.connect();
            const calls = [];
            const multiply = (a, b) => {
                calls.push([a, b]);
                return env.Q.delay(5).then(() => a * b);
            };
            t.is(await remote.invoke('callBack', multiply, 6, 7), 42);
            t.deepEqual(calls, [[6, 7]]);
            const seen = await remote.invoke('describe', multiply);
            t.is(seen.type, 'function');
        },
    },
    {
        title: 'promises and non-plain objects go by reference and take messages',
        async run(t, env) {
            const { remote } = env.connect();
            const seen = await remote.invoke('describe', env.Q.delay(5).then(() => 1));
            t.is(seen.type, 'object');
            t.true(seen.isPromise);
            t.true(await remote.invoke('isPromise', new Thing('main')));
            t.is(await remote.invoke('sendTo', new Thing('main'), 'hello', 'hi'), 'hi from main');
            const later = env.Q.delay(5).then(() => new Thing('later'));
            t.is(await remote.invoke('sendTo', later, 'hello'), 'hello from later');
        },
    },
    {
        title: 'a remote function arrives callable and returns a promise',
        async run(t, env) {
            const { remote } = env.connect();
            const add3 = await remote.invoke('makeAdder', 3);
            t.is(typeof add3, 'function');
            const result = add3(4);
            t.true(env.Q.isPromise(result));
            t.is(await result, 7);
        },
    },
    {
        title: 'a far non-plain object takes pipelined messages',
        async run(t, env) {
            const { remote } = env.connect();
            const thing = remote.invoke('makeThing', 'w');
            t.is(await thing.invoke('hello', 'hey'), 'hey from w');
            t.is(await thing.get('name'), 'w');
            t.is(await remote.invoke('makeCounter').invoke('next'), 1);
            // The promise for the far object, sent back before it settles.
            t.is(await remote.invoke('sendTo', remote.invoke('makeThing', 'x'), 'hello', 'yo'), 'yo from x');
        },
    },
    {
        title: 'an Error rejects with message, stack and own properties',
        async run(t, env) {
            const { remote } = env.connect();
            const reason = await rejection(remote.invoke('fail', 'boom', { code: 'E_BOOM', detail: { n: 1 } }));
            t.is(reason.message, 'boom');
            t.is(typeof reason.stack, 'string');
            t.true(reason.stack.includes('boom'));
            t.is(reason.code, 'E_BOOM');
            t.deepEqual(reason.detail, { n: 1 });
            if (env.caller === 'rs') t.true(reason instanceof Error);
        },
    },
    {
        title: 'a rejection with a non-Error reason crosses as that value',
        async run(t, env) {
            const { remote } = env.connect();
            t.is(await rejection(remote.invoke('rejectWith', 'plain')), 'plain');
            t.deepEqual(await rejection(remote.invoke('rejectWith', { why: [1, 2] })), { why: [1, 2] });
            const missing = await rejection(remote.invoke('noSuchMethod'));
            t.regex(String(missing.message), /noSuchMethod|undefined|not a function/);
        },
    },
    {
        title: 'progress: deferred.notify reaches the caller before the answer',
        async run(t, env) {
            const { remote } = env.connect();
            const seen = [];
            const viaProgress = remote.invoke('progress', 3).progress((n) => seen.push(n));
            t.is(await viaProgress, 3);
            t.deepEqual(seen, [1, 2, 3]);
            const viaThen = [];
            t.is(await remote.invoke('progress', 2).then((n) => n, null, (n) => viaThen.push(n)), 2);
            t.deepEqual(viaThen, [1, 2]);
        },
    },
    {
        title: 'an unknown message type is ignored; later calls still answer',
        async run(t, env) {
            const peer = env.connect();
            peer.inject(JSON.stringify({ type: 'hello', to: '', version: 9 }));
            peer.inject(JSON.stringify({ type: 'bogus' }));
            t.is(await peer.remote.invoke('add', 1, 1), 2);
            t.deepEqual(await peer.remote.invoke('lost'), []);
            const stats = await peer.remote.invoke('stats');
            if (stats) t.is(stats.ignored, 2);
        },
    },
    {
        title: 'a message to an unknown id reaches onmessagelost; the root still answers',
        async run(t, env) {
            const peer = env.connect();
            const message = { type: 'send', to: 'NO-SUCH-ID', from: 'Q1', op: 'get', args: ['x'] };
            peer.inject(JSON.stringify(message));
            t.is(await peer.remote.invoke('next'), 0);
            t.deepEqual(await peer.remote.invoke('lost'), [message]);
        },
    },
    {
        title: 'the far side closing rejects pending calls with the cause',
        // 0.6.1 notices a close only through a Q channel's `closed`.
        when: (env) => env.caller === 'rs' || env.transport === 'queue',
        async run(t, env) {
            const peer = env.connect();
            const pending = peer.remote.invoke('never');
            t.is(await peer.remote.invoke('closeConnection', 'far side done'), 'closing');
            const reason = await rejection(pending);
            const cause = peer.peerCloseCause('far side done');
            t.is(reason.message, 'Connection closed because: ' + cause);
            t.is(reason.cause.message, cause);
        },
    },
    {
        title: 'many calls in flight both ways: every answer reaches its own question',
        async run(t, env) {
            const { remote } = env.connect();
            const sums = [];
            const callbacks = [];
            for (let i = 0; i < 300; i++) {
                sums.push(remote.invoke('add', i, i));
                if (i % 3 === 0) callbacks.push(remote.invoke('callBack', (x) => env.Q.delay(i % 7).then(() => x * 2), i));
            }
            const thing = remote.invoke('makeThing', 'busy');
            const hellos = Array.from({ length: 50 }, (_, i) => thing.invoke('hello', String(i)));
            t.deepEqual(await Promise.all(sums), Array.from({ length: 300 }, (_, i) => 2 * i));
            t.deepEqual(await Promise.all(callbacks), Array.from({ length: 100 }, (_, i) => 6 * i));
            t.deepEqual(await Promise.all(hellos), Array.from({ length: 50 }, (_, i) => i + ' from busy'));
        },
    },
    {
        title: 'Q.isPromise and every Q method on every promise returned',
        when: rsCaller,
        async run(t, env) {
            const { remote } = env.connect();
            const { Q } = env;
            const methods = ['then', 'fail', 'fin', 'spread', 'timeout', 'progress', 'get', 'set',
                'del', 'delete', 'post', 'invoke', 'fapply', 'fcall', 'keys'];
            const add3 = await remote.invoke('makeAdder', 3);
            const thing = await remote.invoke('makeThing', 't');
            const promises = [remote, remote.invoke('next'), remote.get('foo'), remote.keys(),
                remote.get('adder').fcall(1, 1), add3(1), thing.invoke('hello'), thing.get('name')];
            for (const p of promises) {
                t.true(Q.isPromise(p));
                t.deepEqual(methods.filter((m) => typeof p[m] !== 'function'), []);
            }
            await Promise.all(promises.slice(1));
            t.deepEqual(await remote.invoke('echo', [1, 2]).spread((a, b) => a + b), 3);
            t.is(await remote.invoke('later', 'x', 1).timeout(30000), 'x');
            t.is(await remote.invoke('fail', 'f').fail((e) => e.message), 'f');
            let finished = false;
            t.is(await remote.invoke('add', 1, 2).fin(() => { finished = true; }), 3);
            t.true(finished);
            t.is(await remote.invoke('makeThing', 'p').invoke('hello'), 'hello from p');
        },
    },
    {
        title: 'await settles on the root, a far reference and a function result',
        when: rsCaller,
        async run(t, env) {
            const Connection = require('../..');
            const { remote } = env.connect();
            const root = await remote;
            t.true(root instanceof Connection.FarReference);
            t.is(await root.invoke('add', 2, 2), 4);
            t.is(await root.get('foo'), 'bar');
            const thing = await remote.invoke('makeThing', 'far');
            t.true(thing instanceof Connection.FarReference);
            t.is(typeof thing.then, 'undefined');
            t.is(await thing.invoke('hello'), 'hello from far');
            t.is(await thing.post('hello', ['yo']), 'yo from far');
            t.is(await thing.get('name'), 'far');
            t.is(await thing.set('name', 'near'), undefined);
            t.deepEqual(await thing.keys(), ['name']);
            t.is(await thing.del('name'), undefined);
            t.deepEqual(await thing.keys(), []);
            t.is(await thing.set('name', 'near'), undefined);
            const { promise } = await remote.invoke('box', 'adder');
            const boxed = await promise;
            t.true(boxed instanceof Connection.FarReference);
            t.is(await boxed.fcall(1, 5), 6);
            t.is(await boxed.fapply([2, 5]), 7);
            t.is(await boxed.dispatch('apply', [null, [3, 5]]), 8);
            t.true(env.Q.isPromise(boxed.delete('x')));
            t.true(env.Q.isPromise(thing.promise()));
            if (env.impl === 'rs') {
                // rs <-> rs agree `identity`: a FarReference sent back to its
                // owner arrives as the owner's original object, not a proxy.
                t.true(await remote.invoke('isThing', thing));
            } else {
                // 0.6.1 owner: the FarReference sent back stands for the far object.
                t.is(await remote.invoke('sendTo', thing, 'hello', 'back'), 'back from near');
            }
            const add = await remote.invoke('makeAdder', 10);
            t.is(await add(5), 15);
            const adder = await remote.get('adder');
            t.is(typeof adder, 'function');
            t.is(await adder(1, 2), 3);
        },
    },
    {
        title: 'LRU capacity 1 (and old name max): an evicted id is lost, the root answers',
        when: rsCaller,
        async run(t, env) {
            for (const name of ['capacity', 'max']) {
                // The caller exports two callbacks: the first is evicted.
                const peer = env.connect({ options: { [name]: 1 } });
                const { remote } = peer;
                t.true(await remote.invoke('hold', () => 'first'));
                t.is((await remote.invoke('describe', () => 'second')).type, 'function');
                // Its call is lost, so it settles only when the transport is disposed.
                remote.invoke('callHeld').fail(() => {});
                await until(() => peer.lost.length > 0, 'the lost call');
                t.is(peer.lost[0].type, 'send');
                t.is(peer.lost[0].op, 'apply');
                t.is(await remote.invoke('next'), 0);
                t.is(peer.handle.stats().exports, 1);

                // The service exports two things: the first is evicted there.
                const far = env.connect({ farOptions: { [name]: 1 } });
                const a = await far.remote.invoke('makeThing', 'a');
                t.is(await a.invoke('hello'), 'hello from a');
                await far.remote.invoke('makeThing', 'b');
                a.invoke('hello').fail(() => {}); // lost on the far side
                const lost = await until(() => far.remote.invoke('lost').then((l) => l.length && l),
                    'the far side to lose a message');
                t.is(lost[0].op, 'post');
                t.is(await far.remote.invoke('next'), 0);
                if (env.impl === 'rs') t.is((await far.remote.invoke('stats')).exports, 1);
            }
        },
    },
    {
        title: 'LRU capacity 2: a message refreshes an export, the least recently used goes',
        when: rsCaller,
        async run(t, env) {
            const { remote } = env.connect({ farOptions: { capacity: 2 } });
            const a = await remote.invoke('makeThing', 'a');
            const b = await remote.invoke('makeThing', 'b');
            t.is(await a.invoke('hello'), 'hello from a'); // a is now the most recent
            const c = await remote.invoke('makeThing', 'c'); // evicts b
            t.is(await a.invoke('hello'), 'hello from a');
            t.is(await c.invoke('hello'), 'hello from c');
            b.invoke('hello').fail(() => {}); // lost: never answered
            const lost = await until(() => remote.invoke('lost').then((l) => l.length && l), 'b to be lost');
            t.is(lost.length, 1);
            t.deepEqual(lost[0].args, ['hello', []]);
        },
    },
    {
        title: 'open(): close(reason) rejects pending calls, closed settles, later calls fail',
        when: rsCaller,
        async run(t, env) {
            const { remote, handle } = env.connect();
            t.is(await remote.invoke('add', 1, 2), 3);
            const pending = [remote.invoke('never'), remote.invoke('later', 1, 60000)];
            const reason = new Error('caller is done');
            const closed = handle.close(reason);
            for (const p of pending) {
                const error = await rejection(p);
                t.is(error.message, 'Connection closed because: caller is done');
                t.is(error.cause, reason);
            }
            t.is(await closed, reason);
            t.is(await handle.closed, reason);
            const late = await rejection(remote.invoke('add', 1, 2));
            t.is(late.message, 'Connection closed because: caller is done');
            t.is(handle.stats().questions, 0);
        },
    },
    {
        title: 'stats() counts messages and table sizes',
        when: rsCaller,
        async run(t, env) {
            const { remote, handle } = env.connect();
            const before = handle.stats();
            t.is(before.sendsOut, 0);
            await remote.invoke('add', 1, 2);
            await remote.invoke('callBack', (x) => x, 1); // one call back: a send in
            await remote.invoke('progress', 2);
            const after = handle.stats();
            t.is(after.sendsOut, 3);
            t.is(after.resolvesIn, 3);
            t.is(after.notifiesIn, 2);
            t.is(after.sendsIn, 1);
            t.is(after.resolvesOut, 1);
            t.is(after.questions, 0);
            t.is(after.exports, 1);
            const far = await remote.invoke('stats');
            if (far) {
                t.is(far.sendsIn, 4); // the three calls above and this one
                t.is(far.sendsOut, 1);
                t.is(far.notifiesOut, 2);
            }
        },
    },
];

/**
 * Registers with ava every scenario that applies to this pairing, each on a
 * fresh connection of `transport` (see ./peers.js). `impl` serves, `caller`
 * calls: "rs" or "0.6.1".
 */
function register(test, transport, { impl = 'rs', caller = 'rs' } = {}) {
    const env = {
        impl,
        caller,
        transport: transport.name,
        Q: caller === '0.6.1' ? require('./q-connection-061').Q : Q,
        connect: (options) => transport.connect(Object.assign({ impl, caller }, options)),
    };
    for (const scenario of scenarios) {
        if (scenario.when && !scenario.when(env)) continue;
        test(`${transport.name}, ${impl} serving ${caller}: ${scenario.title}`, (t) => scenario.run(t, env));
    }
}

module.exports = { scenarios, register, rejection, until };
