'use strict';

// The codec's text fast paths (lib/qson-text.js) against its general path:
// encodeText(v) must be exactly JSON.stringify(encode(v)), and
// decodeText(t) must decode exactly as decode(JSON.parse(t)), whichever
// path each value takes.

const test = require('ava');
const Q = require('q');
const { makeCodec } = require('../lib/qson');
const { Engine } = require('../binding.js');
const { jsonDataText, revivalOf, AS_PARSED, REVIVE_FORMS, DECODE_ALL } = require('../lib/qson-text');

function codecs() {
    let ids = 0;
    const hooks = {
        exportValue: () => 'ID' + ++ids,
        importReference: (id, type) => ({ imported: id, type })
    };
    const byReference = (value) => value instanceof Marker;
    return [
        ['plain hooks', makeCodec(hooks)],
        ['with isPassByReference and plainIsCopied',
            makeCodec({ ...hooks, isPassByReference: byReference }, { plainIsCopied: true })],
        ['with encodeSpecial', makeCodec({
            ...hooks,
            encodeSpecial: (value) => (typeof value === 'number' ? { '%': 'negative zero' } : undefined)
        })],
        ['maxDepth 3', makeCodec(hooks, { maxDepth: 3 })]
    ];
}

class Marker {}

function sameText(t, value, label) {
    // Separate codecs, so that both number their exports from 1.
    const general = codecs();
    for (const [index, [name, codec]] of codecs().entries()) {
        let expected, actual;
        try {
            expected = JSON.stringify(general[index][1].encode(value));
        } catch (error) {
            expected = 'throws ' + error.message;
        }
        try {
            actual = codec.encodeText(value);
        } catch (error) {
            actual = 'throws ' + error.message;
        }
        t.is(actual, expected, `${label} (${name})`);
    }
}

test('encodeText writes what encode then JSON.stringify write', (t) => {
    const shared = { s: 1 };
    const cycle = { a: [1] };
    cycle.a.push(cycle);
    const nullProto = Object.assign(Object.create(null), { a: 1, __proto__x: 2 });
    const hidden = { a: 1 };
    Object.defineProperty(hidden, 'toJSON', { value: () => 'replaced', enumerable: false });
    const protoKey = JSON.parse('{"__proto__":{"p":1},"b":2}');
    class List extends Array {}
    const getter = { get g() { return 5; } };
    const cases = {
        'plain data': { kind: 'x', records: [{ id: 1, name: 'a/b', ok: true, n: null, f: 1.5, tags: ['$', '@', '%', '!'] }] },
        'primitives': ['', 'text', 0, -1.25e300, true, false, null],
        'top-level string': 'a "quoted" \\ string\n',
        'top-level number': 42,
        'top-level null': null,
        'top-level undefined': undefined,
        'negative zero': { z: -0, list: [-0] },
        'negative zero deep, beside a __proto__ key': JSON.parse('{"a":[{"__proto__":{"p":[1,{"y":0}]},"b":[0,1]}],"c":{"d":1}}',
            (key, v) => (key === 'y' ? -0 : v)),
        'negative zero at the top': -0,
        'undefined in an object': { u: undefined },
        'NaN and infinities': [NaN, Infinity, -Infinity],
        'a hole': [1, , 3], // eslint-disable-line no-sparse-arrays
        'a shared object': { a: shared, b: [shared] },
        'a cycle': cycle,
        'a null prototype': nullProto,
        'a hidden toJSON': hidden,
        'an own __proto__ key': protoKey,
        'an Array subclass': List.from([1, 2]),
        'a Date': { d: new Date(0) },
        'a function': { f() {} },
        'a promise': { p: Q(1) },
        'a by-reference marker': { m: new Marker() },
        'a Map': new Map([[1, 2]]),
        'a bigint': { b: 10n },
        'a symbol value': { s: Symbol('x') },
        'a getter': getter,
        'an Error': new Error('e'),
        'nesting at 3': [[['x']]],
        'nesting at 4': [[[['x']]]]
    };
    // The shape of a call's arguments, [name, [a, b]], which has a path of
    // its own (smallArrayIsData), and its near misses.
    const inner = [1, 2];
    const selfish = ['a'];
    selfish.push(selfish);
    const innerWithToJSON = [1];
    innerWithToJSON.toJSON = () => 'replaced';
    Object.assign(cases, {
        'call arguments': ['add', [1, 2]],
        'call arguments, no inner array': ['get', 'x', 3, true, null],
        'call arguments, empty': [],
        'the same inner array twice': [inner, inner],
        'two inner arrays': [[1], [2]],
        'an array holding itself': selfish,
        'an inner array with an object': ['m', [{ a: 1 }]],
        'an inner array with a hole': ['m', [1, , 2]], // eslint-disable-line no-sparse-arrays
        'an inner array with -0': ['m', [0, -0]],
        'an inner array with NaN': ['m', [NaN]],
        'an inner array with undefined': ['m', [undefined]],
        'an inner array with a toJSON': ['m', innerWithToJSON],
        'an inner Array subclass': ['m', List.from([1])],
        'an inner array with a marker string': ['m', ['$', '@']]
    });
    for (const c of '@!%$/\\"\n') {
        cases[`a key with ${JSON.stringify(c)}`] = { ['k' + c + 'k' + c]: 1, plain: 'v' + c };
        cases[`a value with ${JSON.stringify(c)}`] = { plain: c + 'x' + c, k: { v: c } };
    }
    for (const [label, value] of Object.entries(cases)) sameText(t, value, label);
});

test('an inherited toJSON (a polluted prototype) is never called by encodeText', (t) => {
    Object.prototype.toJSON = () => 'polluted'; // eslint-disable-line no-extend-native
    try {
        sameText(t, { a: [1, { b: 2 }] }, 'Object.prototype.toJSON');
    } finally {
        delete Object.prototype.toJSON;
    }
    Array.prototype.toJSON = () => 'polluted'; // eslint-disable-line no-extend-native
    try {
        sameText(t, { a: [1, { b: 2 }] }, 'Array.prototype.toJSON');
    } finally {
        delete Array.prototype.toJSON;
    }
});

test('jsonDataText answers only for plain data', (t) => {
    t.is(jsonDataText({ a: [1, 'b', null] }, 1000, null), '{"a":[1,"b",null]}');
    t.is(jsonDataText({ 'a/b': 1 }, 1000, null), undefined);
    t.is(jsonDataText({ a: 'x/y', 'b"\\': 'c' }, 1000, null), undefined, 'a backslash in a key is escaped');
    t.is(jsonDataText({ a: 'x/y\\z@' }, 1000, null), '{"a":"x/y\\\\z@"}');
    t.is(jsonDataText([-0], 1000, null), '[0]');
    const negativeZero = (value) => (Object.is(value, -0) ? { '%': '-0' } : undefined);
    const shared = [1];
    const value = { a: [shared, { b: -0 }], c: { d: [2] } };
    t.is(jsonDataText(value, 1000, negativeZero), '{"a":[[1],{"b":{"%":"-0"}}],"c":{"d":[2]}}');
    t.true(Object.is(value.a[1].b, -0), 'the value itself is left alone');
    t.is(jsonDataText([-0], 1000, () => undefined), '[0]');
    t.is(jsonDataText([[1]], 2, null), '[[1]]');
    t.is(jsonDataText([[[1]]], 2, null), undefined);
});

// A small seeded generator of JSON texts whose keys and strings are drawn
// from QSON's markers, escapes and ordinary words.
function generator(seed) {
    let state = seed >>> 0;
    const next = (n) => {
        state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
        return state % n;
    };
    const words = ['$', '%', '!', '@', 'a', '', 'x$', '$x', '\\', 'a\\@', '\\$', '"', '/', 'undefined', 'NaN', '\u0000'];
    function value(depth) {
        switch (depth > 3 ? next(3) : next(6)) {
            case 0: return next(100) - 50;
            case 1: return words[next(words.length)];
            case 2: return [null, true, false][next(3)];
            case 3: return Array.from({ length: next(4) }, () => value(depth + 1));
            default: {
                const object = {};
                for (let i = next(4); i > 0; i--) object[words[next(words.length)]] = value(depth + 1);
                return object;
            }
        }
    }
    return () => value(0);
}

test('decodeText decodes as decode(JSON.parse(text)), on generated texts with markers', (t) => {
    const codec = makeCodec({ exportValue: () => 'X', importReference: (id, type) => ({ imported: id, type }) });
    const generate = generator(7);
    const paths = [0, 0, 0];
    for (let i = 0; i < 3000; i++) {
        let text = JSON.stringify(generate());
        // Some keys and strings written with \u escapes, as a peer may.
        if (i % 3 === 0) text = text.replace(/"\$/g, '"\\u0024');
        paths[revivalOf(text)]++;
        const expected = settle(codec.decode(JSON.parse(text)));
        t.deepEqual(settle(codec.decodeText(text)), expected, text);
    }
    t.true(paths.every((n) => n > 300), `paths taken: ${paths}`);
});

test('revivalOf tells plain text, forms to revive in place, and paths or escapes', (t) => {
    for (const text of ['{"%":"NaN"}', '{"!":1}', '[{"@":"id","type":"object"},"%"]']) {
        t.is(revivalOf(text), REVIVE_FORMS, text);
    }
    for (const text of ['{"$":"/a"}', '[{"%":"NaN"},{"$":""}]', '{"a\\\\@":1}', '{"!":1,"a":"\\n"}', '{"\\u0024":"/"}']) {
        t.is(revivalOf(text), DECODE_ALL, text);
    }
    t.is(revivalOf('{"$x":"@x","a":["%!"],"b":"x$"}'), AS_PARSED);
});

test('the scan of the engine (payloadRevival) answers what revivalOf answers', (t) => {
    const engine = new Engine({});
    const generate = generator(11);
    for (let i = 0; i < 2000; i++) {
        let payload = JSON.stringify(generate());
        if (i % 3 === 0) payload = payload.replace(/"\$/g, '"\\u0024');
        engine.receive(`{"type":"resolve","to":"nobody","resolution":${payload}}`);
        t.is(engine.payloadRevival, revivalOf(payload), payload);
    }
});

// Rejections and imported references compared by what they hold.
function settle(value) {
    if (Q.isPromise(value)) {
        const state = value.inspect();
        value.catch(() => {});
        return { promise: state.state, reason: state.reason && String(state.reason) };
    }
    if (Array.isArray(value)) return value.map(settle);
    if (value !== null && typeof value === 'object') {
        const out = {};
        for (const key of Object.keys(value)) out[key] = settle(value[key]);
        return out;
    }
    return value;
}
