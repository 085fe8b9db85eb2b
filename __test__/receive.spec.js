'use strict';

// Engine.receiveInto (through lib/receive.js) must give what Engine.receive
// gives, for every kind of delivery, including payloads with characters
// outside ASCII (its ranges are UTF-16 offsets computed from UTF-8 bytes)
// and an asker id written with JSON escapes (not a range of the text).

const test = require('ava');
const { Engine } = require('../binding.js');
const { makeReceive } = require('../lib/receive');

// Two engines fed the same messages in the same order stay in step, except
// for the ids they make.
function pair() {
    const plain = new Engine({});
    const fast = new Engine({});
    return { plain, fast, receive: makeReceive(fast).receive };
}

const same = (t, plain, fast) => {
    const { kind, slot, op, payload, answerTo, error, code, reply, question } = plain;
    const expected = { kind, slot, op, payload, answerTo };
    if (kind === 5) Object.assign(expected, { error, code, reply, question });
    const actual = { ...fast };
    for (const key of Object.keys(actual)) if (actual[key] === null) actual[key] = undefined;
    for (const key of Object.keys(expected)) if (expected[key] === null) expected[key] = undefined;
    t.like(actual, expected);
};

// Feeds each text to both engines and compares.
function sameForEach(t, texts) {
    const { plain, receive } = pair();
    for (const text of texts) same(t, plain.receive(text), receive(text));
}

test('calls, with ASCII and non-ASCII payloads, and an escaped asker id', (t) => {
    sameForEach(t, [
        '{"type":"send","to":"","from":"A-1","op":"post","args":["add",[1,2]]}',
        '{"type":"send","to":"","from":"A-2","op":"post","args":["sé",["日本語 😀",{"k":"ü"}]]}',
        '{"type":"send","to":"","from":"😀-3","op":"get","args":["x"]}',
        '{"type":"send","to":"","from":"A\\u002d4","op":"keys","args":[]}',
        '{"op":"apply","args":[null,["ß"]],"to":"","type":"send","from":"é"}',
    ]);
});

test('resolve and notify of our own questions, with non-ASCII resolutions', (t) => {
    const { plain, fast, receive } = pair();
    const idOf = (envelope) => JSON.parse(envelope).from;
    // Each engine made its own id for the same question (slot 7).
    const askPlain = plain.ask('', 3, '["f",[]]', 7);
    const askFast = fast.ask('', 3, '["f",[]]', 7);
    const toPlain = idOf(askPlain);
    const toFast = idOf(askFast);
    same(t, plain.receive(`{"type":"notify","to":"${toPlain}","resolution":"½ way ✓"}`),
        receive(`{"type":"notify","to":"${toFast}","resolution":"½ way ✓"}`));
    same(t, plain.receive(`{"type":"resolve","to":"${toPlain}","resolution":{"€":[1,"ü"]}}`),
        receive(`{"type":"resolve","to":"${toFast}","resolution":{"€":[1,"ü"]}}`));
});

test('a call to one of our pending questions (pipelining)', (t) => {
    const { plain, fast, receive } = pair();
    const idOf = (envelope) => JSON.parse(envelope).from;
    const toPlain = idOf(plain.ask('', 3, '["f",[]]', 3));
    const toFast = idOf(fast.ask('', 3, '["f",[]]', 3));
    const call = (to) => `{"type":"send","to":"${to}","from":"Q-ü","op":"post","args":["m",["ö"]]}`;
    const delivered = receive(call(toFast));
    t.is(delivered.kind, 6);
    same(t, plain.receive(call(toPlain)), delivered);
});

test('lost, ignored and refused messages', (t) => {
    sameForEach(t, [
        '{"type":"resolve","to":"nobody","resolution":1}',
        '{"type":"hello?"}',
        'not json',
        '{"type":"send","to":"","from":"B-1","op":"frobnicate","args":[]}',
    ]);
});

test('meta too short is an error, not a crash', (t) => {
    const engine = new Engine({});
    t.throws(() => engine.receiveInto('{"type":"hello?"}', new Uint32Array(3)), { message: /meta must hold 7/ });
});

test('answerHead: written in JS around a verbatim id, by the engine around an escaped one, the same text either way', (t) => {
    const plain = new Engine({});
    const fast = new Engine({});
    const reader = makeReceive(fast);
    for (const from of ['A-1', 'é-😀', 'A\\u002d4', 'q\\"uote']) {
        const call = `{"type":"send","to":"","from":"${from}","op":"post","args":["f",[]]}`;
        const delivered = reader.receive(call);
        t.is(delivered.verbatim, !from.includes('\\'));
        t.is(reader.answerHead(delivered), plain.answerHead(plain.receive(call).answerTo));
    }
    // Those written in JS are counted by the engine at its next receive.
    t.is(fast.stats().resolvesOut, 4);
    reader.answerHead(reader.receive('{"type":"send","to":"","from":"B","op":"post","args":["f",[]]}'));
    t.is(reader.uncountedAnswers(), 1);
    t.is(fast.stats().resolvesOut, 4);
    reader.receive('{"type":"hello?"}');
    t.is(reader.uncountedAnswers(), 0);
    t.is(fast.stats().resolvesOut, 5);
});

test('answers written in JS give room back under maxPendingCalls before the next call is looked at', (t) => {
    const engine = new Engine({ maxPendingCalls: 1 });
    const reader = makeReceive(engine);
    for (let i = 0; i < 5; i++) {
        const delivered = reader.receive(`{"type":"send","to":"","from":"A-${i}","op":"post","args":["f",[]]}`);
        t.is(delivered.kind, 0, `call ${i} served`);
        reader.answerHead(delivered);
    }
    const refused = reader.receive('{"type":"send","to":"","from":"B","op":"post","args":["f",[]]}');
    t.is(refused.kind, 0);
    const second = reader.receive('{"type":"send","to":"","from":"C","op":"post","args":["f",[]]}');
    t.is(second.kind, 5, 'past the bound while one is unanswered');
});

test('a pipelining peer\'s call has its answer kept in the slot offered, as keepAnswer would', (t) => {
    const { ABSENT } = require('../lib/receive');
    const hello = (engine) => JSON.parse(engine.hello());
    const offer = ['pipeline'];
    const engine = new Engine({ extensions: offer });
    const filled = [];
    let next = 40;
    const reader = makeReceive(engine, () => {}, {
        offer: () => next,
        kept: (slot, replaced) => filled.push([slot, replaced]),
    });
    // Before the hello agrees on pipeline nothing is kept.
    t.is(reader.receive('{"type":"send","to":"","from":"A-0","op":"post","args":["f",[]]}').kept, ABSENT);
    reader.receive(JSON.stringify(hello(new Engine({ extensions: offer }))));
    const first = reader.receive('{"type":"send","to":"","from":"A-1","op":"post","args":["f",[]]}');
    t.is(first.kept, 40);
    t.deepEqual(filled, [[40, ABSENT]]);
    t.is(engine.stats().answers, 1);
    // The same id again replaces the answer: the old slot comes back to be freed.
    next = 41;
    t.is(reader.receive('{"type":"send","to":"","from":"A-1","op":"post","args":["f",[]]}').kept, 41);
    t.deepEqual(filled[1], [41, 40]);
    // A call to the kept answer reaches its slot.
    const pipelined = reader.receive('{"type":"send","to":"A-1","from":"A-2","op":"get","args":["x"]}');
    t.is(pipelined.slot, 41);
    // Nothing offered: nothing kept (the caller keeps it with keepAnswer).
    next = ABSENT;
    t.is(reader.receive('{"type":"send","to":"","from":"A-3","op":"post","args":["f",[]]}').kept, ABSENT);
});
