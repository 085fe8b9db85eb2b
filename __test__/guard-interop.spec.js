'use strict';

// The named attacks, sent by a real q-connection 0.6.1 peer through its
// public API (Q's get/set/invoke/fcall/dispatch on its remote promise) to a
// q-connection-rs server over a MessageChannel. Each is refused with a
// rejection the 0.6.1 caller sees, and the server goes on serving.

const test = require('ava');
const { MessageChannel } = require('worker_threads');
const { Connection: QConnection061, Q: Q061 } = require('./helpers/q-connection-061');
const { open } = require('..');
const { prototypeSnapshot } = require('./helpers/raw-peer');

// After loading 0.6.1: its `collections` dependency shims built-ins itself.
const before = prototypeSnapshot();
test.afterEach.always((t) => {
    t.deepEqual(prototypeSnapshot(), before, 'a shared prototype changed');
    t.is({}.polluted, undefined);
});

class Account {
    constructor() {
        this.balance = 10;
    }

    deposit(amount) {
        this.balance += amount;
        return this.balance;
    }
}

/** Our server and a 0.6.1 client: `{ remote (0.6.1's), server (our handle), errors }`. */
function pair(t, root, options = {}) {
    const { port1, port2 } = new MessageChannel();
    const errors = [];
    const server = open(port1, root, { onerror: (error) => errors.push(error), ...options });
    const remote = QConnection061(port2, {});
    t.teardown(() => {
        server.close();
        port2.close();
    });
    return { remote, server, errors };
}

function makeRoot() {
    return { account: new Account(), echo: (x) => x, never: () => Q061.defer().promise, value: 1 };
}

/** The rejection reason's message of a 0.6.1 promise (0.6.1 rejects with the raw decoded reason). */
async function reason(promise) {
    try {
        await Q061(promise).then((value) => ({ fulfilled: value }));
    } catch (error) {
        return error && typeof error === 'object' ? error.message : String(error);
    }
    return 'fulfilled';
}

test('0.6.1: get("__proto__"), then set on it, is refused', async (t) => {
    const { remote } = pair(t, makeRoot());
    t.is(await reason(remote.get('__proto__')), 'property "__proto__" is not reachable');
    t.is(await reason(remote.get('__proto__').set('polluted', true)), 'property "__proto__" is not reachable');
    t.is(await reason(remote.set('__proto__', { polluted: true })), 'property "__proto__" is not reachable');
    t.is(await remote.get('value'), 1);
});

test('0.6.1: constructor.constructor to reach Function is refused', async (t) => {
    const { remote } = pair(t, makeRoot());
    t.is(await reason(remote.get('constructor').get('constructor').fcall('return process')),
        'property "constructor" is not reachable');
    t.is(await reason(remote.invoke('constructor')), 'property "constructor" is not reachable');
    // Through a class instance given by reference.
    const account = remote.get('account');
    t.is(await reason(account.get('constructor')), 'property "constructor" is not reachable');
    t.is(await reason(account.get('__proto__')), 'property "__proto__" is not reachable');
    t.is(await account.invoke('deposit', 5), 15);
});

test('0.6.1: inherited Object.prototype members are refused', async (t) => {
    const { remote } = pair(t, makeRoot());
    for (const name of ['toString', 'hasOwnProperty', '__defineGetter__', 'valueOf', 'isPrototypeOf']) {
        t.is(await reason(remote.invoke(name, 'x')), `property "${name}" is not reachable`);
    }
    t.deepEqual((await remote.keys()).sort(), ['account', 'echo', 'never', 'value']);
});

test('0.6.1: shared names as keys of arguments arrive as own data', async (t) => {
    let seen;
    const { remote } = pair(t, { take: (value) => { seen = value; return Object.keys(value); } });
    // (0.6.1 sends an object with an own `constructor` key by reference, and
    // its encoder cannot send a "__proto__" key at all: it assigns it.)
    const keys = await remote.invoke('take', { prototype: { polluted: true }, toString: 'x', hasOwnProperty: 1 });
    t.deepEqual(keys, ['prototype', 'toString', 'hasOwnProperty']);
    t.is(Object.getPrototypeOf(seen), Object.prototype);
    t.deepEqual(seen.prototype, { polluted: true });
});

test('0.6.1: deep nesting and huge messages are refused with the reason', async (t) => {
    const { remote, server, errors } = pair(t, makeRoot(), { maxMessageBytes: 1 << 20 });
    let deep = [];
    // Deeper than our limit, yet shallow enough for 0.6.1's own recursive encoder.
    for (let i = 0; i < 1100; i++) deep = [deep];
    t.is(await reason(remote.invoke('echo', deep)), 'message nests deeper than 1000 levels');
    t.regex(await reason(remote.invoke('echo', 'x'.repeat(2 << 20))), /^message of \d+ bytes exceeds the limit of 1048576 bytes$/);
    t.is(await remote.invoke('echo', 'small'), 'small');
    t.deepEqual(errors.map((e) => e.code), ['ETOODEEP', 'ETOOLARGE']);
    t.is(server.stats().malformed, 2);
});

test('0.6.1: an unknown operation is refused; an unknown id is counted as lost', async (t) => {
    const { remote, server, errors } = pair(t, makeRoot(), { capacity: 1 });
    t.is(await reason(remote.dispatch('frobnicate', [])), 'unknown operation "frobnicate"');
    // With capacity 1, the first account reference is evicted by the second.
    // (Never `await` a 0.6.1 far promise: it fulfils to itself and spins.)
    const first = remote.get('account');
    t.is(await first.get('balance'), 10);
    t.is(await remote.get('account').get('balance'), 10);
    first.invoke('deposit', 1); // lost: 0.6.1 never hears back, as the protocol says
    t.is(await remote.get('value'), 1);
    t.deepEqual(errors.map((e) => e.code), ['EOPERATION', 'ELOST']);
    t.is(server.stats().lost, 1);
});

test('0.6.1: calls past maxPendingCalls are refused, then served again', async (t) => {
    const gates = [];
    const { remote, server } = pair(t, {
        wait() {
            const gate = Q061.defer();
            gates.push(gate);
            return gate.promise;
        },
        now: () => 'now'
    }, { maxPendingCalls: 5 });
    const waiting = [];
    for (let i = 0; i < 5; i++) waiting.push(remote.invoke('wait'));
    t.is(await reason(remote.invoke('now')), 'too many pending calls: the limit of 5 calls served at once is reached');
    gates.forEach((gate, i) => gate.resolve(i));
    t.deepEqual(await Q061.all(waiting), [0, 1, 2, 3, 4]);
    t.is(await remote.invoke('now'), 'now');
    t.is(server.stats().callsRefused, 1);
});
