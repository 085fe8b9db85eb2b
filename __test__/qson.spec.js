'use strict';

// QSON codec: wire text compared with a real q-connection 0.6.1 Connection,
// round trips, and the safety limits.

const test = require('ava');
const Q = require('q');
const { Connection } = require('./helpers/q-connection-061');
const { makeCodec } = require('../lib/qson');

// A codec whose exports and imports are recorded, for inspection.
function recordingCodec(options) {
    const exported = [];
    const imported = [];
    const codec = makeCodec({
        exportValue(value, type) {
            exported.push({ value, type });
            return 'ID' + exported.length;
        },
        importReference(id, type) {
            const ref = { ref: id, type };
            imported.push(ref);
            return ref;
        }
    }, options);
    return Object.assign(codec, { exported, imported });
}

// The `args` tree that a 0.6.1 Connection sends for remote.invoke("f", value).
// A one-way channel: the connection puts into `sent`, and never hears back.
async function wireArgsOf061(value) {
    const sent = [];
    let wake;
    const arrived = new Promise((resolve) => { wake = resolve; });
    const never = Q.defer();
    const channel = {
        get: () => never.promise,
        put(text) { sent.push(text); wake(); },
        close() {},
        closed: Q.defer().promise
    };
    const remote = Connection(channel, undefined);
    remote.invoke('f', value);
    await arrived;
    const message = JSON.parse(sent[0]);
    if (message.type !== 'send' || message.op !== 'post') {
        throw new Error('unexpected envelope ' + sent[0]);
    }
    return message.args;
}

// Replaces every "@" id with a counter, in order of appearance in the text.
function normaliseIds(text) {
    const ids = new Map();
    return text.replace(/"@":"((?:[^"\\]|\\.)*)"/g, (_, id) => {
        if (!ids.has(id)) ids.set(id, ids.size);
        return '"@":"#' + ids.get(id) + '"';
    });
}

function sharedCase() {
    const shared = { s: 1 };
    return { a: shared, b: [shared, shared], c: { d: shared } };
}

function cycleCase() {
    const o = { name: 'o', list: [] };
    o.self = o;
    o.list.push(o, o.list);
    return o;
}

function errorCase() {
    const e = new TypeError('bad thing');
    e.code = 'E_BAD';
    e.detail = { nested: [1, 2] };
    return e;
}

function fn() { return 1; }

class Point { constructor() { this.x = 1; } }

const wireCases = {
    'string': 'hello "q" \\ / \u2028',
    'number': 42.5,
    'zero': 0,
    'negative zero (0.6.1 sends 0)': -0,
    'true': true,
    'false': false,
    'null': null,
    'undefined': undefined,
    'NaN': NaN,
    '+Infinity': Infinity,
    '-Infinity': -Infinity,
    'empty array': [],
    'empty object': {},
    'nested arrays': [[1, [2, [3, []]]], [null, undefined]],
    'nested objects': { a: { b: { c: 'd' }, e: [{ f: NaN }] }, g: null },
    'sparse array': [1, , 3], // eslint-disable-line no-sparse-arrays
    'keys with each special char': {
        '@': 1, '!': 2, '%': 3, '$': 4, '/': 5, '\\': 6,
        'a@b': 7, 'x!': 8, '%y': 9, 'm$n': 10, 'p/q': 11, 'r\\s': 12
    },
    'keys with two special chars': {
        '@@': 1, '@!': 2, '/%/': 3, '$\\': 4, '\\\\': 5, 'a/b/c': { '!!': [] }
    },
    'shared references under escaped keys': (() => {
        const s = { v: 1 };
        return { 'a/b': s, '@': { x: s }, 'c': s };
    })(),
    'shared subobjects': sharedCase(),
    'cycles': cycleCase(),
    'error with own props': errorCase(),
    'plain error': new Error('plain'),
    'function': fn,
    'function twice': { f: fn, g: fn, h: [fn] },
    'date by reference': new Date(0),
    'map by reference': new Map([[1, 2]]),
    'class instance by reference': new Point(),
    'Q promise by reference': Q.resolve(1),
    'mixed': { n: null, u: undefined, arr: [fn, new Date(1), { z: -Infinity }] },
    'numeric and string key order': { b: 1, 2: 'two', a: 3, 1: 'one' },
    'toJSON is not called': { toJSON: 5, d: new Date(5) }
};

for (const [name, value] of Object.entries(wireCases)) {
    test('wire text equals 0.6.1: ' + name, async (t) => {
        const theirs = await wireArgsOf061(value);
        const ours = recordingCodec().encode(['f', [value]]);
        t.is(normaliseIds(JSON.stringify(ours)), normaliseIds(JSON.stringify(theirs)));
    });
}

test('exportValue is called once per referenced object, with typeof', (t) => {
    const codec = recordingCodec();
    const d = new Date(0);
    codec.encode({ f: fn, again: fn, d, p: Q.resolve(1) });
    t.deepEqual(codec.exported.map((e) => e.type), ['function', 'object', 'object']);
    t.is(codec.exported[0].value, fn);
    t.is(codec.exported[1].value, d);
});

test('isPassByReference sends plain objects and arrays by reference', (t) => {
    const far = { far: true };
    const codec = makeCodec({
        exportValue: () => 'X',
        isPassByReference: (v) => v === far,
        importReference: () => null
    });
    t.deepEqual(codec.encode({ a: far, b: { c: 1 } }),
        { a: { '@': 'X', type: 'object' }, b: { c: 1 } });
});

test('documented deviations: null prototype and own constructor are copied', (t) => {
    const codec = recordingCodec();
    const bare = Object.create(null);
    bare.k = 1;
    t.is(JSON.stringify(codec.encode({ bare, c: { constructor: 'x' } })),
        '{"bare":{"k":1},"c":{"constructor":"x"}}');
    t.is(codec.exported.length, 0);
});

test('round trip keeps values, escaped keys, cycles and shared subobjects', (t) => {
    const codec = recordingCodec();
    const value = {
        prims: [0, 1.5, 'x', true, false, null, undefined, NaN, Infinity, -Infinity],
        keys: { '@': 1, 'a/b/c': 2, '\\': 3, '$$': 4, '%!': 5 },
        shared: sharedCase()
    };
    const back = codec.decode(JSON.parse(JSON.stringify(codec.encode(value))));
    t.deepEqual(back, value);
    t.is(back.shared.a, back.shared.b[0]);
    t.is(back.shared.a, back.shared.c.d);

    const cyc = codec.decode(JSON.parse(JSON.stringify(codec.encode(cycleCase()))));
    t.is(cyc.self, cyc);
    t.is(cyc.list[0], cyc);
    t.is(cyc.list[1], cyc.list);
});

test('references are imported once and reused for {"$"} to them', (t) => {
    const codec = recordingCodec();
    const tree = JSON.parse(JSON.stringify(codec.encode({ f: fn, g: fn, d: new Date(0) })));
    const back = codec.decode(tree);
    t.deepEqual(codec.imported, [{ ref: 'ID1', type: 'function' }, { ref: 'ID2', type: 'object' }]);
    t.is(back.f, back.g);
    t.is(back.d, codec.imported[1]);
});

test('errors encode as message, stack and own props', (t) => {
    const e = errorCase();
    const tree = recordingCodec().encode(e);
    t.deepEqual(Object.keys(tree), ['message', 'stack', 'code', 'detail']);
    t.is(tree.message, 'bad thing');
    t.is(tree.stack, e.stack);
});

test('{"!"} decodes to a rejection whose reason is rebuilt as an Error', async (t) => {
    const codec = recordingCodec();
    const e = errorCase();
    const rejected = codec.decode(JSON.parse(JSON.stringify({ '!': codec.encode(e) })));
    t.true(Q.isPromise(rejected));
    const reason = await t.throwsAsync(() => rejected);
    t.true(reason instanceof Error);
    t.is(reason.message, 'bad thing');
    t.is(reason.stack, e.stack);
    t.is(reason.code, 'E_BAD');
    t.deepEqual(reason.detail, { nested: [1, 2] });
    t.false(Object.keys(reason).includes('stack'));

    const plain = codec.decode({ '!': { why: 'no', n: { '%': 'NaN' } } });
    const plainReason = await t.throwsAsync(() => plain, { any: true });
    t.deepEqual(plainReason, { why: 'no', n: NaN });
    await t.throwsAsync(() => codec.decode({ '!': 'text' }), { any: true });
});

test('falsy markers are ordinary keys, unknown specials reject', async (t) => {
    const codec = recordingCodec();
    t.deepEqual(codec.decode({ '!': 0, '@': '', '%': null }), { '!': 0, '@': '', '%': null });
    const unknown = codec.decode({ '%': 'Symbol' });
    await t.throwsAsync(() => unknown, { instanceOf: TypeError, message: 'Unrecognized type: Symbol' });
    t.is(codec.decode({ '$': '/nowhere' }), undefined);
});

test('a __proto__ key decodes as an own property, prototypes untouched', (t) => {
    const codec = recordingCodec();
    const tree = JSON.parse('{"__proto__": {"polluted": true}, "a": {"__proto__": []}}');
    const back = codec.decode(tree);
    t.is(Object.getPrototypeOf(back), Object.prototype);
    t.true(Object.prototype.hasOwnProperty.call(back, '__proto__'));
    t.deepEqual(Object.getOwnPropertyDescriptor(back, '__proto__'),
        { value: { polluted: true }, writable: true, enumerable: true, configurable: true });
    t.is(Object.getPrototypeOf(back.a), Object.prototype);
    t.is(({}).polluted, undefined);
    t.is(back.polluted, undefined);
    // ...and it encodes back as an own key.
    t.is(JSON.stringify(codec.encode(back)), '{"__proto__":{"polluted":true},"a":{"__proto__":[]}}');
});

test('an inherited "$" does not turn an object into a lookup', (t) => {
    const codec = recordingCodec();
    const tree = Object.create({ '$': '' });
    tree.x = 1;
    t.deepEqual(codec.decode(tree), { x: 1 });
});

function deepArray(depth) {
    let v = [];
    for (let i = 0; i < depth; i++) v = [v];
    return v;
}

function deepTree(depth) {
    // Built as text: a tree this deep is what a hostile peer can send.
    return JSON.parse('['.repeat(depth) + ']'.repeat(depth));
}

test('100000-deep input is a RangeError, not a stack overflow', (t) => {
    const codec = recordingCodec();
    t.throws(() => codec.encode(deepArray(100000)),
        { instanceOf: RangeError, message: 'QSON nesting deeper than 1000' });
    t.throws(() => codec.decode(deepTree(100000)),
        { instanceOf: RangeError, message: 'QSON nesting deeper than 1000' });
});

test('maxDepth is exact and configurable', (t) => {
    const codec = recordingCodec();
    t.notThrows(() => codec.encode(deepArray(999))); // 1000 nested arrays
    t.notThrows(() => codec.decode(deepTree(1000)));
    t.throws(() => codec.encode(deepArray(1000)), { instanceOf: RangeError });
    t.throws(() => codec.decode(deepTree(1001)), { instanceOf: RangeError });
    const small = recordingCodec({ maxDepth: 2 });
    t.notThrows(() => small.encode({ a: { b: 1 } }));
    t.throws(() => small.encode({ a: { b: {} } }), { message: 'QSON nesting deeper than 2' });
    t.throws(() => small.decode({ a: [[]] }), { message: 'QSON nesting deeper than 2' });
});

test('a throwing getter propagates out of encode', (t) => {
    const codec = recordingCodec();
    const value = { get bad() { throw new Error('getter'); } };
    t.throws(() => codec.encode(value), { message: 'getter' });
});

test('makeCodec refuses missing hooks', (t) => {
    t.throws(() => makeCodec({}), { instanceOf: TypeError });
});
