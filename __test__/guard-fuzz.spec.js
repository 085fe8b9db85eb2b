'use strict';

// A seeded fuzzer: 100,000 mutated messages thrown at a live connection over a
// real MessageChannel. Afterwards a normal call still answers, no shared
// prototype gained a property, nothing was thrown into the event loop, and
// every message was either served or counted. FUZZ_SEED=n replays a run.

const test = require('ava');
const { rawPeer, closeAll, prototypeSnapshot } = require('./helpers/raw-peer');

const COUNT = 100000;
const BATCH = 2000;
const SEED = Number(process.env.FUZZ_SEED) || 0x5eed;

test.after.always(closeAll);

/** mulberry32: a small seeded PRNG, so a failing run can be replayed. */
function prng(seed) {
    let a = seed >>> 0;
    return function next() {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

class Account {
    constructor() {
        this.balance = 0;
    }

    deposit(amount) {
        this.balance += Number(amount) || 0;
        return this.balance;
    }
}

const NAMES = ['echo', 'add', 'account', 'scratch', 'fn', '__proto__', 'constructor', 'prototype', 'toString',
    'hasOwnProperty', '__defineGetter__', 'valueOf', 'deposit', 'balance', 'missing', '', 'length', 'call', 'bind'];
const OPS = ['get', 'set', 'put', 'delete', 'post', 'apply', 'keys', 'invoke', 'frob', '', 'constructor'];
const VALUES = [
    '1', 'null', 'true', '"s"', '[]', '{}', '{"%":"undefined"}', '{"%":"NaN"}', '{"%":"bogus"}', '{"$":"/0"}',
    '{"$":""}', '{"!":{"message":"m","stack":"s"}}', '{"@":"NOPE","type":"function"}', '{"@":"","type":"object"}',
    '{"__proto__":{"polluted":true}}', '{"constructor":{"prototype":{"polluted":true}}}',
    '{"\\\\@":1,"\\\\$":2}', '"\\ud800"', '1e400', '-0'
];
const FRAGMENTS = ['{', '}', '[', ']', '"', '\\', ',', ':', 'null', '__proto__', '"type":"send",', '"from":7,',
    '[[[[[[[[', '\u0000', '\ud800', '"to":"",', '{"%":"NaN"}', '}}}}'];

function pick(random, list) {
    return list[Math.floor(random() * list.length)];
}

/** A plausible message: valid envelope text with fields drawn from hostile pools. */
function template(random, ids) {
    const to = pick(random, ids.targets);
    const from = `F${Math.floor(random() * 1e9)}`;
    const kind = random();
    if (kind < 0.6) {
        const name = JSON.stringify(pick(random, NAMES));
        const value = pick(random, VALUES);
        const args = pick(random, [
            `[${name}]`, `[${name},${value}]`, `[${name},[${value},${value}]]`, `[null,[${value}]]`,
            `[${value},[]]`, '[]', `[${name},${value},${value}]`
        ]);
        return `{"type":"send","to":${JSON.stringify(to)},"from":"${from}","op":${JSON.stringify(pick(random, OPS))},"args":${args}}`;
    }
    const question = pick(random, ids.questions);
    if (kind < 0.8) return `{"type":"resolve","to":${JSON.stringify(question)},"resolution":${pick(random, VALUES)}}`;
    if (kind < 0.9) return `{"type":"notify","to":${JSON.stringify(question)},"resolution":${pick(random, VALUES)}}`;
    if (kind < 0.95) {
        const depth = 900 + Math.floor(random() * 300);
        return `{"type":"send","to":"","from":"${from}","op":"post","args":["echo",${'['.repeat(depth)}${']'.repeat(depth)}]}`;
    }
    if (kind < 0.97) return extensionMessage(random, ids);
    return pick(random, ['', 'null', '[]', '"x"', '{}', '{"type":"hello"}', '{"type":null}', 'not json', '{"type":"send"}']);
}

const EXTENSIONS = ['pipeline', 'release', 'batch', 'x'.repeat(100), '', 'constructor'];

/** A hello, a release or a batch (the negotiated extensions' messages). */
function extensionMessage(random, ids) {
    const kind = random();
    if (kind < 0.3) {
        const names = [0, 1, 2].map(() => JSON.stringify(pick(random, EXTENSIONS)));
        return `{"type":"hello","version":${pick(random, ['1', '0', '"1"', '99', '-1'])},"extensions":[${names.join(',')}]}`;
    }
    if (kind < 0.7) {
        const id = JSON.stringify(pick(random, ids.targets.concat(ids.questions, ['__proto__'])));
        return `{"type":"release","ids":{${id}:${pick(random, ['1', '0', '-1', '1e9', '"1"', 'null'])}}}`;
    }
    const pieces = [0, 1, 2].map(() => template(random, ids));
    return `\n${pieces.join('\n')}`;
}

/**
 * Text edits (delete, insert, replace, duplicate, truncate, rename a field):
 * none for half the messages, so that many reach dispatch with hostile
 * values, one for 30%, two to four for the rest.
 */
function mutate(random, text) {
    const roll = random();
    const edits = roll < 0.5 ? 0 : roll < 0.8 ? 1 : 2 + Math.floor(random() * 3);
    for (let i = 0; i < edits; i++) {
        const at = Math.floor(random() * (text.length + 1));
        switch (Math.floor(random() * 6)) {
            case 0: text = text.slice(0, at) + text.slice(at + 1); break;
            case 1: text = text.slice(0, at) + pick(random, FRAGMENTS) + text.slice(at); break;
            case 2: text = text.slice(0, at) + String.fromCharCode(Math.floor(random() * 128)) + text.slice(at + 1); break;
            case 3: text = text.slice(0, at) + text.slice(at, at + 20) + text.slice(at); break;
            case 4: text = text.slice(0, at); break;
            default: text = text.replace(/"(get|post|echo|add|to|from|args)"/, `"${pick(random, NAMES)}"`);
        }
    }
    return text;
}

test('100,000 mutated messages: the connection serves on and no prototype changes', async (t) => {
    const before = prototypeSnapshot();
    const accountKeys = Reflect.ownKeys(Account.prototype);
    const codes = {};
    let onErrorCalls = 0;
    const root = Object.freeze({
        echo: (x) => x,
        add: (a, b) => a + b,
        account: new Account(),
        scratch: {},
        fn: () => (y) => y
    });
    const peer = rawPeer(root, {
        onerror(error) {
            onErrorCalls++;
            codes[error.code] = (codes[error.code] || 0) + 1;
        },
        onmessagelost() {},
        extensions: true
    });
    // Negotiate every extension first (the first hello counts), so the fuzz
    // also runs through kept answers, counted releases and batches.
    peer.post('{"type":"hello","version":1,"extensions":["pipeline","release","batch"]}');
    // Give the fuzzer real ids: exports of ours, and questions we are waiting on.
    const targets = ['', 'NOPE'];
    for (const name of ['account', 'scratch', 'fn', 'echo']) targets.push((await peer.call('', 'get', [name]))['@']);
    const asked = [];
    for (let i = 0; i < 50; i++) asked.push(peer.handle.remote.invoke('question', i).catch(() => 'rejected'));
    while (peer.received.filter((text) => text.includes('"type":"send"')).length < 50) await new Promise(setImmediate);
    const questions = peer.received.filter((text) => text.includes('"type":"send"')).map((text) => JSON.parse(text).from);
    const ids = { targets, questions: questions.concat(['NOPE', '']) };

    const random = prng(SEED);
    let sent = 0;
    let released = peer.received.length;
    for (let batch = 0; sent < COUNT; batch++) {
        for (let i = 0; i < BATCH && sent < COUNT; i++, sent++) {
            peer.post(mutate(random, template(random, ids)));
        }
        // Like any pipelining peer, release the answers received (a no-op
        // unless a fuzzed hello negotiated pipelining).
        const answered = peer.received.slice(released).map((text) => JSON.parse(text).to);
        released = peer.received.length;
        peer.post(JSON.stringify({ type: 'release', ids: Object.fromEntries(answered.map((id) => [id, 1])) }));
        // One round trip per batch: the port's queue stays short and the
        // connection is shown to answer all along.
        t.is(await peer.call('', 'post', ['add', [batch, 1]]), batch + 1);
    }
    t.is(await peer.call('', 'post', ['echo', ['still serving']]), 'still serving');

    t.deepEqual(prototypeSnapshot(), before, 'a shared prototype changed');
    t.deepEqual(Reflect.ownKeys(Account.prototype), accountKeys);
    t.is({}.polluted, undefined);
    t.is(Object.getPrototypeOf(root.account), Account.prototype);
    const stats = peer.handle.stats();
    t.true(stats.malformed > 0 && stats.lost > 0 && stats.refused > 0, JSON.stringify(stats));
    t.is(onErrorCalls, Object.values(codes).reduce((a, b) => a + b, 0));
    t.log(`fuzzed ${sent} messages (seed ${SEED}): ${JSON.stringify(codes)}; ` +
        `calls served ${stats.sendsIn - stats.refused - stats.callsRefused}, answers out ${stats.resolvesOut}; ` +
        `negotiated: ${EXTENSIONS.filter((name) => peer.handle.peerHas(name)).join(', ') || 'nothing'}`);
    console.log(`guard-fuzz: ${sent} mutated messages sent (seed ${SEED})`);
    await Promise.race([Promise.all(asked), new Promise(setImmediate)]);
});
