'use strict';

// Safe decoding and malformed input: "__proto__" keys on every value path,
// deep nesting and huge messages in both directions, wrong types, unknown
// ids. Each bad message is counted and reported to onerror; the well-behaved
// messages around it are all served.

const test = require('ava');
const Q = require('q');
const { Engine } = require('../binding.js');
const { rawPeer, closeAll, rejectionMessage, prototypeSnapshot } = require('./helpers/raw-peer');

const before = prototypeSnapshot();
test.after.always(closeAll);
test.afterEach.always((t) => {
    t.deepEqual(prototypeSnapshot(), before, 'a shared prototype changed');
    t.is({}.polluted, undefined);
});

const PROTO_KEYS = '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"ok":1}';

function assertOwnKeysOnly(t, value) {
    t.is(Object.getPrototypeOf(value), Object.prototype);
    t.deepEqual(Object.keys(value), ['__proto__', 'constructor', 'ok']);
    t.true(Object.prototype.hasOwnProperty.call(value, '__proto__'));
    t.is(value.polluted, undefined);
    t.deepEqual(value.__proto__, { polluted: true });
}

test('"__proto__" keys in call arguments become own data properties', async (t) => {
    const seen = [];
    const peer = rawPeer({ take: (value) => seen.push(value) });
    peer.post(`{"type":"send","to":"","from":"A","op":"post","args":["take",[${PROTO_KEYS}]]}`);
    t.is(await peer.call('', 'post', ['take', [{}]]), 2);
    assertOwnKeysOnly(t, seen[0]);
    peer.close();
});

test('"__proto__" keys in a resolution, a rejection and progress stay own data', async (t) => {
    const peer = rawPeer({});
    const asked = [];
    // The connection asks; the raw side answers with hostile resolutions.
    const answers = peer.handle.remote.invoke('value');
    const failures = peer.handle.remote.invoke('failure');
    const progressed = peer.handle.remote.invoke('progress');
    const progress = [];
    progressed.progress((value) => progress.push(value));
    await until(() => peer.received.length >= 3);
    for (const text of peer.received) asked.push(JSON.parse(text));
    peer.post(`{"type":"resolve","to":"${asked[0].from}","resolution":${PROTO_KEYS}}`);
    peer.post(`{"type":"resolve","to":"${asked[1].from}","resolution":{"!":{"message":"m","stack":"s","__proto__":{"polluted":1}}}}`);
    peer.post(`{"type":"notify","to":"${asked[2].from}","resolution":${PROTO_KEYS}}`);
    peer.post(`{"type":"resolve","to":"${asked[2].from}","resolution":null}`);
    assertOwnKeysOnly(t, await answers);
    const error = await t.throwsAsync(failures);
    t.is(Object.getPrototypeOf(error), Error.prototype);
    t.is(error.message, 'm');
    t.deepEqual(error.__proto__, { polluted: 1 });
    t.is(await progressed, null);
    t.is(progress.length, 1);
    assertOwnKeysOnly(t, progress[0]);
    peer.close();
});

test('the engine never builds a JS object from wire keys', (t) => {
    const engine = new Engine({});
    const delivery = engine.receive(`{"type":"send","to":"","from":"F","op":"get","args":[${PROTO_KEYS}],"__proto__":{"kind":9}}`);
    t.is(Object.getPrototypeOf(delivery), Object.prototype);
    t.deepEqual(Object.keys(delivery).sort(), ['answerTo', 'kind', 'op', 'payload', 'slot']);
    t.is(delivery.kind, 0);
    t.is(delivery.payload, `[${PROTO_KEYS}]`, 'the payload stays text; JS decodes it with own properties');
});

test('100,000-deep nesting is a clear error in both directions, not a stack overflow', async (t) => {
    const deepText = '['.repeat(100000) + ']'.repeat(100000);
    const peer = rawPeer({ echo: (x) => x });
    // Incoming: the asker is answered with the reason.
    const text = `{"type":"send","to":"","from":"DEEP","op":"post","args":["echo",[${deepText}]]}`;
    const answered = new Promise((resolve) => {
        const check = setInterval(() => {
            const reply = peer.received.find((r) => r.includes('"to":"DEEP"'));
            if (reply) resolve(JSON.parse(reply).resolution, clearInterval(check));
        }, 5);
    });
    peer.post(text);
    t.is(rejectionMessage(await answered), 'message nests deeper than 1000 levels');
    t.is(peer.errors[0].code, 'ETOODEEP');
    // Outgoing: encoding refuses before the wire.
    let deep = [];
    for (let i = 0; i < 100000; i++) deep = [deep];
    const error = await t.throwsAsync(peer.handle.remote.invoke('echo', deep));
    t.true(error instanceof RangeError);
    t.is(error.message, 'QSON nesting deeper than 1000');
    // An answer too deep to encode is a rejection for the asker.
    const served = rawPeer({ deep: () => deep });
    t.is(rejectionMessage(await served.call('', 'post', ['deep', []])), 'QSON nesting deeper than 1000');
    // Both connections still serve.
    t.is(await peer.call('', 'post', ['echo', [5]]), 5);
    t.is(await served.call('', 'keys', []).then((keys) => keys.length), 1);
    peer.close();
    served.close();
});

test('a message over maxMessageBytes is refused with a reason to its asker', async (t) => {
    const peer = rawPeer({ echo: (x) => x }, { maxMessageBytes: 1024 });
    t.regex(rejectionMessage(await peer.call('', 'post', ['echo', ['x'.repeat(2000)]])),
        /^message of 20\d\d bytes exceeds the limit of 1024 bytes$/);
    t.is(peer.errors[0].code, 'ETOOLARGE');
    t.is(await peer.call('', 'post', ['echo', ['small']]), 'small');
    t.is(peer.handle.stats().malformed, 1);
    peer.close();
});

test('a refused answer to our own call rejects that call instead of leaving it pending', async (t) => {
    const peer = rawPeer({});
    const pending = peer.handle.remote.invoke('anything');
    await until(() => peer.received.length >= 1);
    const from = JSON.parse(peer.received[0]).from;
    peer.post(`{"type":"resolve","to":"${from}","resolution":${'['.repeat(2000)}${']'.repeat(2000)}}`);
    await t.throwsAsync(pending, { message: 'message nests deeper than 1000 levels' });
    t.is(peer.handle.stats().questions, 0);
    peer.close();
});

test('malformed messages are counted and reported, and the good ones between them are served', async (t) => {
    const peer = rawPeer({ echo: (x) => x });
    const bad = [
        ['not json', 'EMALFORMED'],
        ['[1,2,3]', 'EMALFORMED'],
        ['"a string"', 'EMALFORMED'],
        ['null', 'EMALFORMED'],
        ['{"type":"send","to":5,"from":"F","op":"get","args":[]}', 'EFIELD'],
        ['{"type":"send","to":"","from":"F","op":7,"args":[]}', 'EFIELD'],
        ['{"type":"send","to":"","from":"F","op":"get","args":"x"}', 'EFIELD'],
        ['{"type":"send","to":"","op":"get","args":[]}', 'EFIELD'],
        ['{"type":"resolve","to":{}}', 'EFIELD'],
        ['{"type":"send","to":"","from":"F","op":"frobnicate","args":[]}', 'EOPERATION'],
        ['{"type":"send","to":"UNKNOWN","from":"F","op":"get","args":["a"]}', 'ELOST'],
        ['{"type":"resolve","to":"UNKNOWN","resolution":1}', 'ELOST'],
        ['{"type":"notify","to":"UNKNOWN","resolution":1}', 'ELOST']
    ];
    const answers = [];
    for (const [text, _] of bad) {
        peer.post(text);
        answers.push(peer.call('', 'post', ['echo', [answers.length]]));
    }
    peer.post('{"type":"mystery","to":""}'); // an unknown type is ignored, not an error
    t.deepEqual(await Promise.all(answers), bad.map((_, i) => i));
    t.deepEqual(peer.errors.map((e) => e.code), bad.map(([, code]) => code));
    const stats = peer.handle.stats();
    t.is(stats.malformed, 9);
    t.is(stats.refused, 1);
    t.is(stats.lost, 3);
    t.is(stats.ignored, 1);
    // A non-string from the port (a structured-clone object) is reported too.
    peer.post({ type: 'send' });
    t.is(await peer.call('', 'post', ['echo', ['after']]), 'after');
    t.is(peer.errors.at(-1).code, 'EMALFORMED');
    peer.close();
});

test('bad QSON inside a valid envelope rejects just that call', async (t) => {
    const peer = rawPeer({ echo: (x) => x });
    t.deepEqual(rejectionMessage(await peer.call('', 'post', ['echo', [{ '%': 'bogus' }]])), 'Unrecognized type: bogus');
    t.deepEqual(await peer.call('', 'post', ['echo', [{ $: '/nowhere' }]]), { '%': 'undefined' });
    t.is(await peer.call('', 'post', ['echo', [1]]), 1);
    peer.close();
});

async function until(condition) {
    for (let i = 0; i < 1000 && !condition(); i++) await Q.delay(5);
    if (!condition()) throw new Error('condition never held');
}

test('a rejection inside arguments or progress raises no unhandledRejection', async (t) => {
    const unhandled = [];
    const onUnhandled = (reason) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const peer = rawPeer({ ignore: () => 'ignored' });
    t.is(await peer.call('', 'post', ['ignore', [{ '!': { message: 'm', stack: 's' } }, { '%': 'bogus' }, { a: { '!': 1 } }]]), 'ignored');
    const progressed = peer.handle.remote.invoke('work');
    await until(() => peer.received.length >= 2);
    const from = JSON.parse(peer.received[1]).from;
    peer.post(`{"type":"notify","to":"${from}","resolution":{"!":"as progress"}}`);
    peer.post(`{"type":"resolve","to":"${from}","resolution":1}`);
    t.is(await progressed, 1);
    await Q.delay(50);
    process.off('unhandledRejection', onUnhandled);
    t.deepEqual(unhandled, []);
});

test('a hostile batch of empty or junk pieces costs at most 4,097 refusals', async (t) => {
    const peer = rawPeer({ echo: (x) => x });
    peer.post('\n' + '\n'.repeat(100000));
    peer.post('\nx\nx\n' + '{"type":"send","to":"","from":"B","op":"post","args":["echo",[1]]}');
    t.is(await peer.call('', 'post', ['echo', ['after']]), 'after');
    t.is(peer.errors.length, 4097 + 2);
    t.true(peer.received.some((text) => text.includes('"to":"B"')), 'a good envelope in a batch is served');
});
