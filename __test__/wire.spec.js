'use strict';

// Exact wire text: for each value and each message type (send for every op,
// resolve, resolve with a rejection, notify), q-connection-rs puts on the
// channel the very text q-connection 0.6.1 puts for the same call. Each run
// joins two peers of one implementation by Q queues and records every put;
// ids are replaced by their order of first appearance. (Args-level
// comparisons of single values are in qson.spec.js.)

const test = require('ava');
const Q = require('q');
const Connection = require('..');
const { Connection: Connection061, Q: Q097 } = require('./helpers/q-connection-061');
const { channelPair, channelFor061 } = require('./helpers/peers');
const { makeService } = require('./fixtures/service');

// Ids of both: 0.6.1's (8-4-4-12 hex digits, 27 of them random) and
// q-connection-rs's (an RFC 4122 layout, 8-4-4-4-12, 128 random bits).
const ID = /[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-(?:[0-9A-F]{4}-)?[0-9A-F]{12}/g;
const ID_OF = {
    rs: /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/,
    '0.6.1': /^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[0-9A-F]{12}$/,
};

class Instance {}

/** Values by name; each call makes a fresh one, so both runs see equal values. */
const fixedError = (() => {
    const error = new RangeError('out of range');
    error.stack = 'RangeError: out of range\n    at fixed (wire.spec.js:1:1)';
    error.code = 'E_RANGE';
    error.detail = { limit: [1, 2] };
    return error;
})();
const fn = function named(x) { return x; };
const VALUES = {
    primitives: () => [0, 1.5, -2, 1e300, 'text', '', true, false, null],
    specials: () => [undefined, NaN, Infinity, -Infinity, -0, { u: undefined }],
    nested: () => ({ a: { b: [1, { c: 'd' }, []] }, e: {} }),
    'escaped keys': () => ({ '@': 1, '!': 2, '%': 3, '$': 4, '/': 5, '\\': 6, 'a/b/c': 7, '@@!': 8, 'x\\y': 9, '%@': { '$': 10 } }),
    unicode: () => ({ 'é': 'ü€😀', '\u2028': '\u0000"\\', '': 'empty key' }),
    cycle: () => {
        const value = { name: 'loop', list: [] };
        value.self = value;
        value.list.push(value, value.list);
        return value;
    },
    shared: () => {
        const shared = { n: 1 };
        return { a: shared, b: [shared, { deeper: shared }], c: shared };
    },
    error: () => fixedError,
    'error inside': () => ({ errors: [fixedError, fixedError] }),
    function: () => fn,
    'function twice': () => [fn, { again: fn }],
    instance: () => new Instance(),
    date: () => new Date(0),
    promise: () => Q.resolve(1),
    mixed: () => ({ f: fn, list: [new Instance(), 'x'], n: NaN }),
    'top-level string': () => 'just text',
    'top-level undefined': () => undefined,
    // Unencodable: the answer is a rejection carrying what the getter threw
    // (and a call with it in its args sends nothing).
    'throwing getter': () => ({
        ok: 1,
        get bad() {
            throw fixedError;
        },
    }),
};

/** A far root that answers with, rejects with, or notifies `make()`. */
function makeRoot(Qlib, make) {
    return {
        prop: 'initial',
        take() {
            return null;
        },
        fn() {
            return null;
        },
        value() {
            return make();
        },
        reject() {
            return Qlib.reject(make());
        },
        progress() {
            const deferred = Qlib.defer();
            setTimeout(() => {
                deferred.notify(make());
                deferred.resolve(null);
            }, 1);
            return deferred.promise;
        },
    };
}

/**
 * Runs `script(remote)` between two peers of `impl` joined by Q queues, the
 * far one serving `makeFarRoot(Q of impl)`, and returns every text put,
 * caller's first then service's, each in order, with ids normalised. Also
 * checks that every id has 0.6.1's shape.
 */
async function transcript(t, impl, makeFarRoot, script) {
    const [near, far] = channelPair();
    const sent = { near: [], far: [] };
    const record = (channel, list) => Object.assign({}, channel, {
        put(text) {
            list.push(text);
            return channel.put(text);
        },
    });
    const nearChannel = record(near, sent.near);
    const farChannel = record(far, sent.far);
    let remote;
    if (impl === 'rs') {
        // Extensions off: the plain protocol, which must be 0.6.1's text.
        remote = Connection(nearChannel, {}, { extensions: false });
        Connection(farChannel, makeFarRoot(Q), { extensions: false });
    } else {
        remote = Connection061(channelFor061(nearChannel), {});
        Connection061(channelFor061(farChannel), makeFarRoot(Q097));
    }
    // Settles on a plain value, never on a far reference (which 0.6.1 would
    // give as a promise fulfilled to itself).
    const outcome = await script(remote).then(() => 'fulfilled', () => 'rejected');
    near.close(new Error('transcript over'));
    const ids = new Map();
    const normalise = (text) => text.replace(ID, (id) => {
        if (!ids.has(id)) ids.set(id, ids.size);
        return '#' + ids.get(id);
    });
    const texts = [...sent.near.map((text) => '> ' + text), ...sent.far.map((text) => '< ' + text)];
    for (const text of texts) {
        for (const field of text.matchAll(/"(?:from|to|@)":"([^"]*)"/g)) {
            if (field[1] !== '') t.regex(field[1], ID_OF[impl]);
        }
    }
    return { outcome, texts: texts.map(normalise) };
}

// Each call sends one message type with the value in it; the answer is
// recorded too.
const SCRIPTS = {
    'send post': (remote, value) => remote.invoke('take', value),
    'send set': (remote, value) => remote.set('prop', value),
    'send apply': (remote, value) => remote.get('fn').fcall(value, 'second'),
    'resolve (post)': (remote) => remote.invoke('value'),
    'resolve with rejection': (remote) => remote.invoke('reject'),
    notify: (remote) => remote.invoke('progress').progress(() => {}),
};

for (const name of Object.keys(VALUES)) {
    for (const [kind, script] of Object.entries(SCRIPTS)) {
        test(`${kind}: ${name}`, async (t) => {
            const root = (Qlib) => makeRoot(Qlib, VALUES[name]);
            const call = (remote) => script(remote, VALUES[name]());
            const rs = await transcript(t, 'rs', root, call);
            const old = await transcript(t, '0.6.1', root, call);
            t.is(rs.outcome, old.outcome);
            t.deepEqual(rs.texts, old.texts);
        });
    }
}

// Ops whose args carry no value.
const OPS = {
    get: (remote) => remote.get('prop'),
    delete: (remote) => remote.del('prop'),
    keys: (remote) => remote.keys(),
    'apply with no args': (remote) => remote.get('fn').fcall(),
    'post with no args': (remote) => remote.invoke('take'),
};
for (const [kind, script] of Object.entries(OPS)) {
    test(`send ${kind}`, async (t) => {
        const root = (Qlib) => makeRoot(Qlib, VALUES.primitives);
        const rs = await transcript(t, 'rs', root, script);
        const old = await transcript(t, '0.6.1', root, script);
        t.deepEqual(rs.texts, old.texts);
        t.true(rs.texts.length >= 2);
    });
}

// Conversations with the scenarios' service: callbacks, far objects sent
// back, progress. Both directions must match message for message.
const CONVERSATIONS = {
    'a callback called back': (remote) => remote.invoke('callBack', (a, b) => a * b, 6, 7),
    'a held callback called later': (remote) => remote.invoke('hold', (x) => x + 1)
        .then(() => remote.invoke('callHeld', 1)),
    'a pipelined chain on a far object': (remote) => remote.invoke('makeThing', 'a').invoke('hello', 'hi'),
    'a far object sent back before it settles': (remote) =>
        remote.invoke('sendTo', remote.invoke('makeThing', 'x'), 'hello'),
    'a far function called': (remote) => remote.invoke('makeAdder', 3).then((add) => add(4)),
    'progress three times': (remote) => remote.invoke('progress', 3),
    'cycles both ways': (remote) => {
        const value = { list: [] };
        value.list.push(value);
        return remote.invoke('describe', value).then(() => remote.invoke('cyclic'));
    },
    'keys, get, set and delete on a far object': (remote) => {
        const thing = remote.invoke('makeThing', 'k');
        return thing.keys().then(() => thing.set('name', 'j')).then(() => thing.del('name'))
            .then(() => thing.get('name'));
    },
};
for (const [kind, script] of Object.entries(CONVERSATIONS)) {
    test(`conversation: ${kind}`, async (t) => {
        const root = (Qlib) => makeService(Qlib);
        const rs = await transcript(t, 'rs', root, script);
        const old = await transcript(t, '0.6.1', root, script);
        t.is(rs.outcome, 'fulfilled');
        t.is(old.outcome, 'fulfilled');
        t.deepEqual(rs.texts, old.texts);
    });
}
