'use strict';

// Port adapters against real peers: MessageChannel, a worker_threads Worker,
// a `ws` server and client, and a pair of Q channels; plus small fakes for the
// W3C and Chrome shapes that Node does not have.

const path = require('path');
const { spawn } = require('child_process');
const { Readable } = require('stream');
const test = require('ava');
const { MessageChannel, Worker } = require('worker_threads');
const { WebSocket } = require('ws');
const { channelPair, chromeEvent, wsServer } = require('./helpers/e2e');
const { adaptPort, REFUSAL } = require('../lib/ports');

// A sink that records, with promises for the next message and for closing.
function recorder() {
    const messages = [];
    let waiters = [];
    let closedCalls = 0;
    let onClosed;
    const closed = new Promise((resolve) => { onClosed = resolve; });
    return {
        messages,
        closed,
        get closedCalls() { return closedCalls; },
        sink: {
            message(data) {
                messages.push(data);
                const ready = waiters.filter((w) => messages.length >= w.count);
                waiters = waiters.filter((w) => messages.length < w.count);
                ready.forEach((w) => w.resolve(messages.slice()));
            },
            closed(error) {
                closedCalls++;
                onClosed(error);
            }
        },
        // Resolves once `count` messages in all have arrived.
        until(count) {
            if (messages.length >= count) return Promise.resolve(messages.slice());
            return new Promise((resolve) => waiters.push({ count, resolve }));
        }
    };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

test('refuses a port it cannot adapt', (t) => {
    const sink = recorder().sink;
    const error = t.throws(() => adaptPort({}, {}, sink));
    t.is(error.message, REFUSAL + '; got an object without keys');
    t.regex(REFUSAL, /Q channel.*postMessage.*WebSocket.*child process.*stream\.Duplex/);
    t.is(t.throws(() => adaptPort(null, {}, sink)).message, REFUSAL + '; got null');
    t.regex(t.throws(() => adaptPort(new Map(), {}, sink)).message, /got a Map without keys$/);
    t.regex(t.throws(() => adaptPort({ _private: 1, onmessage: null }, {}, sink)).message,
        /got an object with keys onmessage$/);
    t.regex(t.throws(() => adaptPort(new Readable({ read() {} }), {}, sink)).message,
        /got a one-way stream \(pass a Duplex or \{readable, writable\}\)$/);
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'pipe' });
    t.regex(t.throws(() => adaptPort(child, {}, sink)).message,
        /got a child process without an IPC channel \(fork\(\) it, or pass \{readable: child\.stdout/);
    // Inside a worker or a child not started by fork(), there is no IPC.
    if (typeof process.send !== 'function') {
        t.regex(t.throws(() => adaptPort(process, {}, sink)).message, /got `process` without an IPC/);
    }
    t.throws(() => adaptPort({ send() {} }, {}, {}), { instanceOf: TypeError });
});

test('MessageChannel: both directions, close from either side', async (t) => {
    for (const closer of ['a', 'b']) {
        const { port1, port2 } = new MessageChannel();
        const ra = recorder();
        const rb = recorder();
        const a = adaptPort(port1, undefined, ra.sink);
        const b = adaptPort(port2, {}, rb.sink);
        t.is(a.kind, 'message-port');
        a.send('to b 1');
        a.send('to b 2');
        b.send('to a');
        b.send({ not: 'text' }); // passed through as it is
        t.deepEqual(await rb.until(2), ['to b 1', 'to b 2']);
        t.deepEqual(await ra.until(2), ['to a', { not: 'text' }]);

        const [closing, other] = closer === 'a' ? [a, rb] : [b, ra];
        const mine = closer === 'a' ? ra : rb;
        closing.close(new Error('done here'));
        t.is((await mine.closed).message, 'done here');
        t.is((await other.closed).message, 'MessagePort closed');
        await tick();
        t.is(ra.closedCalls, 1);
        t.is(rb.closedCalls, 1);
        t.is(port1.listenerCount('message'), 0);
        t.is(port1.listenerCount('close'), 0);
        t.is(port2.listenerCount('message'), 0);
        t.is(port2.listenerCount('close'), 0);
    }
});

test('MessageChannel: raw close of the peer port is detected', async (t) => {
    const { port1, port2 } = new MessageChannel();
    const r = recorder();
    adaptPort(port1, {}, r.sink);
    port2.close();
    t.is((await r.closed).message, 'MessagePort closed');
});

const fixture = path.join(__dirname, 'fixtures', 'echo-worker.js');

test('Worker: echo through parentPort, terminate() detected with cause', async (t) => {
    const worker = new Worker(fixture);
    const r = recorder();
    const port = adaptPort(worker, {}, r.sink);
    t.is(port.kind, 'worker');
    port.send('one');
    port.send('two');
    t.deepEqual(await r.until(2), ['one', 'two']);
    await worker.terminate();
    const error = await r.closed;
    t.is(error.message, 'worker exited with code 1');
    t.is(r.closedCalls, 1);
    t.is(worker.listenerCount('message'), 0);
    t.is(worker.listenerCount('exit'), 0);
});

test('Worker: its parentPort adapter closing lets it exit with code 0', async (t) => {
    const worker = new Worker(fixture);
    const r = recorder();
    const port = adaptPort(worker, {}, r.sink);
    port.send('close');
    t.is((await r.closed).message, 'worker exited with code 0');
});

test('Worker: close() removes listeners and does not terminate', async (t) => {
    const worker = new Worker(fixture);
    const r = recorder();
    const port = adaptPort(worker, {}, r.sink);
    port.send('ping');
    await r.until(1);
    port.close();
    t.is((await r.closed).message, 'Port closed by the local side');
    t.is(worker.listenerCount('message'), 0);
    t.is(worker.listenerCount('exit'), 0);
    t.is(worker.listenerCount('error'), 0);
    port.send('dropped after close');
    // Still alive: a raw listener gets an echo.
    const echo = new Promise((resolve) => worker.once('message', resolve));
    worker.postMessage('still there');
    t.is(await echo, 'still there');
    t.deepEqual(r.messages, ['ping']);
    await worker.terminate();
});

async function wsPair(t) {
    const server = await wsServer(t);
    const accepted = server.accepted();
    const client = new WebSocket(server.url);
    t.teardown(() => client.terminate());
    return { client, accepted };
}

test('ws: queued until open, text and binary as text, close detected once', async (t) => {
    const { client, accepted } = await wsPair(t);
    const rc = recorder();
    const c = adaptPort(client, {}, rc.sink);
    t.is(c.kind, 'websocket');
    t.is(client.readyState, WebSocket.CONNECTING);
    c.send('early 1');
    c.send('early 2');

    const socket = await accepted;
    const rs = recorder();
    const s = adaptPort(socket, {}, rs.sink);
    t.deepEqual(await rs.until(2), ['early 1', 'early 2']);
    client.send(Buffer.from('binary \u00e9'), { binary: true });
    t.is((await rs.until(3))[2], 'binary \u00e9');
    s.send('reply');
    t.deepEqual(await rc.until(1), ['reply']);

    c.close(new Error('client done'));
    t.is((await rc.closed).message, 'client done');
    t.is((await rs.closed).message, 'WebSocket closed: 1000');
    await tick();
    t.is(rs.closedCalls, 1);
    t.is(rc.closedCalls, 1);
    t.is(socket.listenerCount('message'), 0);
    t.is(client.listenerCount('message'), 0);
    t.is(client.listenerCount('open'), 0);
});

test('ws: fragments and arraybuffer payloads decode as UTF-8', async (t) => {
    const { client, accepted } = await wsPair(t);
    const socket = await accepted;
    socket.binaryType = 'fragments';
    const rs = recorder();
    adaptPort(socket, {}, rs.sink);
    client.binaryType = 'arraybuffer';
    const rc = recorder();
    const c = adaptPort(client, {}, rc.sink);
    c.send('text \u2603');
    t.deepEqual(await rs.until(1), ['text \u2603']);
    socket.send(Buffer.from('bytes \u2603'));
    t.deepEqual(await rc.until(1), ['bytes \u2603']);
});

test('ws: close() while connecting does not crash and reports once', async (t) => {
    const { client } = await wsPair(t);
    const r = recorder();
    const c = adaptPort(client, {}, r.sink);
    c.send('never sent');
    c.close();
    t.is((await r.closed).message, 'Port closed by the local side');
    await tick();
    t.is(r.closedCalls, 1);
});

test('Q channel pair: both directions and close', async (t) => {
    const [left, right] = channelPair();
    const rl = recorder();
    const rr = recorder();
    const l = adaptPort(left, {}, rl.sink);
    const r = adaptPort(right, {}, rr.sink);
    t.is(l.kind, 'channel');
    for (let i = 0; i < 100; i++) l.send('l' + i);
    r.send('r0');
    t.is((await rr.until(100)).join(), Array.from({ length: 100 }, (_, i) => 'l' + i).join());
    t.deepEqual(await rl.until(1), ['r0']);
    const why = new Error('left leaves');
    l.close(why);
    t.is(await rl.closed, why);
    t.is(await rr.closed, why);
    await tick();
    t.is(rl.closedCalls, 1);
    t.is(rr.closedCalls, 1);
    l.send('after close');
    t.is(rr.messages.length, 100);
});

test('Q channel: a non-Error close reason is wrapped', async (t) => {
    const [left] = channelPair();
    const r = recorder();
    adaptPort(left, {}, r.sink);
    left.close('just text');
    const error = await r.closed;
    t.true(error instanceof Error);
    t.is(error.message, 'just text');
});

// A W3C-style port (EventTarget, start(), postMessage(data, origin)).
class FakeW3CPort extends EventTarget {
    constructor() { super(); this.posted = []; this.started = 0; this.closedCount = 0; }
    postMessage(...args) { this.posted.push(args); }
    start() { this.started++; }
    close() { this.closedCount++; }
    receive(data, origin) { this.dispatchEvent(new MessageEvent('message', { data, origin })); }
}

test('W3C port: start(), origin sent and checked, listeners removed', async (t) => {
    const port = new FakeW3CPort();
    const r = recorder();
    const errors = [];
    const a = adaptPort(port, { origin: 'https://a.test', onerror: (e) => errors.push(e) }, r.sink);
    t.is(port.started, 1);
    a.send('out');
    t.deepEqual(port.posted, [['out', 'https://a.test']]);
    port.receive('good', 'https://a.test');
    port.receive('no origin');
    port.receive('bad', 'https://evil.test');
    t.deepEqual(r.messages, ['good', 'no origin']);
    t.is(errors.length, 1);
    t.is(errors[0].origin, 'https://evil.test');
    a.close();
    port.receive('after close', 'https://a.test');
    t.deepEqual(r.messages, ['good', 'no origin']);
    t.is(port.closedCount, 1);
    t.is((await r.closed).message, 'Port closed by the local side');

    const plain = new FakeW3CPort();
    adaptPort(plain, {}, recorder().sink).send('x');
    t.deepEqual(plain.posted, [['x']]);
});

test('onmessage-only port and a W3C WebSocket', async (t) => {
    const port = { posted: [], postMessage(m) { this.posted.push(m); } };
    const r = recorder();
    const a = adaptPort(port, {}, r.sink);
    port.onmessage({ data: 'hi' });
    t.deepEqual(r.messages, ['hi']);
    a.close();
    t.is(port.onmessage, null);

    const socket = new EventTarget();
    Object.assign(socket, { readyState: 0, sent: [], send(m) { this.sent.push(m); } });
    const rs = recorder();
    const s = adaptPort(socket, {}, rs.sink);
    s.send('queued');
    t.deepEqual(socket.sent, []);
    socket.readyState = 1;
    socket.dispatchEvent(new Event('open'));
    t.deepEqual(socket.sent, ['queued']);
    socket.dispatchEvent(new MessageEvent('message', { data: new TextEncoder().encode('abc').buffer }));
    t.deepEqual(rs.messages, ['abc']);
    const close = new Event('close');
    close.code = 1006;
    socket.dispatchEvent(close);
    t.is((await rs.closed).message, 'WebSocket closed: 1006');
});

test('Chrome extension port: onMessage, onDisconnect, removeListener', async (t) => {
    const port = { posted: [], onMessage: chromeEvent(), onDisconnect: chromeEvent(), postMessage(m) { this.posted.push(m); } };
    const r = recorder();
    const a = adaptPort(port, {}, r.sink);
    t.is(a.kind, 'chrome-port');
    a.send('out');
    port.onMessage.fire('in');
    t.deepEqual(r.messages, ['in']);
    t.deepEqual(port.posted, ['out']);
    port.onDisconnect.fire();
    t.is((await r.closed).message, 'Port disconnected');
    t.is(port.onMessage.listeners.size, 0);
    t.is(port.onDisconnect.listeners.size, 0);
});
