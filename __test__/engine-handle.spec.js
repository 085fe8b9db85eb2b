'use strict';

// The hot crossings are plain functions taking an engine's handle
// (src/napi/binding_engine_handle.rs). A handle names an engine of the
// thread that made it only: anywhere else it is an error, never another
// engine, and never a crash.

const test = require('ava');
const { Worker } = require('worker_threads');
const { Engine, engineReceiveInto, engineAsk } = require('../binding.js');

const HELLO = '{"type":"hello?"}';
const IGNORED = 4;

test('a handle reaches its own engine, as the method does', (t) => {
    const engine = new Engine({});
    const meta = new Uint32Array(7);
    t.is(engineReceiveInto(engine.handle, HELLO, meta), null);
    t.is(meta[0], IGNORED);
    const envelope = JSON.parse(engineAsk(engine.handle, '', 3, '["f",[1]]', 5));
    t.like(envelope, { type: 'send', to: '', op: 'post', args: ['f', [1]] });
    t.is(engine.stats().questions, 1);
});

test('handles are distinct, and a handle never issued is an error', (t) => {
    const a = new Engine({});
    const b = new Engine({});
    t.not(a.handle, b.handle);
    t.throws(() => engineReceiveInto(0, HELLO, new Uint32Array(7)), { message: /no engine 0 on this thread/ });
});

test('a handle from another thread is an error there, in both directions', async (t) => {
    const engine = new Engine({});
    const worker = new Worker(`
        const { parentPort, workerData } = require('worker_threads');
        const { Engine, engineReceiveInto } = require(workerData.binding);
        const own = new Engine({});
        let error = null;
        try {
            engineReceiveInto(workerData.handle, '{"type":"hello?"}', new Uint32Array(7));
        } catch (e) {
            error = e.message;
        }
        parentPort.postMessage({ handle: own.handle, error });
        // Kept alive until the main thread has tried the worker's handle.
        parentPort.once('message', () => parentPort.close());
    `, { eval: true, workerData: { binding: require.resolve('../binding.js'), handle: engine.handle } });
    const { handle, error } = await new Promise((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
    });
    t.regex(error, new RegExp(`no engine ${engine.handle} on this thread`));
    t.not(handle, engine.handle);
    t.throws(() => engineReceiveInto(handle, HELLO, new Uint32Array(7)), { message: /no engine \d+ on this thread/ });
    worker.postMessage('done');
    await new Promise((resolve) => worker.once('exit', resolve));
});

test('a meta array that is a view into a larger buffer is written in place', (t) => {
    const engine = new Engine({});
    const buffer = new Uint32Array(16).fill(7);
    const meta = buffer.subarray(4, 11);
    engineReceiveInto(engine.handle, HELLO, meta);
    t.is(buffer[4], IGNORED);
    t.is(buffer[3], 7);
    t.is(buffer[11], 7);
});

test('arguments of the wrong type are errors', (t) => {
    const engine = new Engine({});
    t.throws(() => engineReceiveInto(engine.handle, 42, new Uint32Array(7)), { message: /expected a string/ });
    t.throws(() => engineAsk(engine.handle, '', 3, null, 1), { message: /expected a string/ });
    t.throws(() => engineReceiveInto(engine.handle, HELLO, new Int32Array(7)), { message: /expected a Uint32Array/ });
    t.throws(() => engineReceiveInto(engine.handle, HELLO, [0, 0, 0, 0, 0, 0, 0]), { message: /expected a Uint32Array/ });
    t.throws(() => engineReceiveInto('1', HELLO, new Uint32Array(7)), { message: /expected a number/ });
    t.throws(() => engineAsk(engine.handle, '', 3, '[]'), { message: /expected a number/ });
    t.throws(() => engineReceiveInto(engine.handle, HELLO, new Uint32Array(3)), { message: /meta must hold 7/ });
});

test('long and non-ASCII texts cross whole (the reused buffer grows, and shrinks back)', (t) => {
    const engine = new Engine({});
    const meta = new Uint32Array(7);
    const lengths = [10, 1000, 100000, 10];
    for (let n = 118; n < 132; n++) lengths.push(n, n * 2);
    for (const length of lengths) {
        // A 4-byte character at the end of every length, across the buffer's edge.
        const text = 'é'.repeat(length) + '😀';
        const call = `{"type":"send","to":"","from":"A","op":"post","args":["${text}",[]]}`;
        t.is(engineReceiveInto(engine.handle, call, meta), null);
        t.is(call.slice(meta[3], meta[4]), `["${text}",[]]`);
        const envelope = engineAsk(engine.handle, text, 3, `["${text}"]`, 1);
        t.deepEqual(JSON.parse(envelope).args, [text]);
        t.is(JSON.parse(envelope).to, text);
    }
});
