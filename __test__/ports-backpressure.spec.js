'use strict';

// Send-side backpressure on a WebSocket port (lib/ports/backpressure.js): a
// peer on 127.0.0.1 floods calls and does not read the answers. Our side
// stops reading once its socket buffers more than maxBufferedBytes, so what
// it buffers stays near the mark instead of growing with the calls; once the
// peer reads, every call is answered, in order, and the connection serves on.
// A W3C socket (which cannot pause) whose peer keeps sending past the mark
// while not reading is closed with a clear error instead.

const test = require('ava');
const { WebSocketServer, WebSocket } = require('ws');
const { open } = require('..');

const MARK = 256 << 10;
const CALLS = 3000;
const PAYLOAD = 'x'.repeat(4096); // each answer is ~4 KiB: ~12 MiB in all
// What may be sent past the mark before reads stop: the answers to calls
// already read (one socket read, ~64 KiB of calls, and a turn's batch).
// Generous; the figure is logged.
const SLACK = 2 << 20;
// Generous (a shared machine, ava's own heap): without the mark, ~12 MiB of
// answers would wait anyway; this only catches a runaway.
const RSS_BOUND = 200 << 20;

function call(n) {
    return JSON.stringify({ type: 'send', to: '', from: `P${n}`, op: 'post', args: ['echo', [PAYLOAD + n]] });
}

async function server(t, onSocket) {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => wss.once('listening', resolve));
    wss.on('connection', onSocket);
    t.teardown(() => {
        wss.clients.forEach((socket) => socket.terminate());
        return new Promise((resolve) => wss.close(resolve));
    });
    return `ws://127.0.0.1:${wss.address().port}`;
}

const until = (check) => new Promise((resolve) => {
    const timer = setInterval(() => {
        if (check()) {
            clearInterval(timer);
            resolve();
        }
    }, 5);
});

test('ws port: a peer that floods calls and does not read; bounded, then every call answered in order', async (t) => {
    let served = 0;
    let socket = null;
    let handle = null;
    let maxBuffered = 0;
    const url = await server(t, (accepted) => {
        socket = accepted;
        handle = open(accepted, { echo: (text) => { served++; return text; } },
            { maxBufferedBytes: MARK, extensions: false });
    });
    const sampler = setInterval(() => {
        if (socket) maxBuffered = Math.max(maxBuffered, socket.bufferedAmount);
    }, 1);
    t.teardown(() => clearInterval(sampler));

    const peer = new WebSocket(url);
    t.teardown(() => peer.terminate());
    const answers = [];
    peer.on('message', (data) => answers.push(JSON.parse(data.toString())));
    await new Promise((resolve) => peer.once('open', resolve));
    peer.pause(); // never reads: our answers pile up on our side
    const rss = process.memoryUsage().rss;

    // Flood: every call, waiting only while the peer's own buffer is large
    // (which it stays once our side stops reading).
    let sent = 0;
    (function pump() {
        while (sent < CALLS && peer.bufferedAmount < (1 << 20)) peer.send(call(sent++));
        if (sent < CALLS && peer.readyState === WebSocket.OPEN) setTimeout(pump, 1);
    })();
    // Our side stops reading (paused) before serving every call.
    await until(() => socket && socket.isPaused);
    const servedWhilePaused = served;
    await new Promise((resolve) => setTimeout(resolve, 200));
    t.log(`served ${served} of ${CALLS} while the peer did not read; ` +
        `max bufferedAmount ${maxBuffered} (mark ${MARK}); RSS +${(process.memoryUsage().rss - rss) >> 20} MiB`);
    t.is(served, servedWhilePaused, 'no call is served while backed up');
    t.true(served < CALLS);
    t.true(maxBuffered <= MARK + SLACK, `bufferedAmount reached ${maxBuffered}`);
    t.true(process.memoryUsage().rss - rss < RSS_BOUND);
    t.is(answers.length, 0);

    // The peer reads: every call is answered, in order.
    peer.resume();
    await until(() => answers.length >= CALLS);
    t.is(served, CALLS);
    t.deepEqual(answers.map((answer) => answer.to), Array.from({ length: CALLS }, (_, n) => `P${n}`));
    t.true(answers.every((answer, n) => answer.type === 'resolve' && answer.resolution === PAYLOAD + n));
    t.true(maxBuffered <= MARK + SLACK, `bufferedAmount reached ${maxBuffered}`);

    // And the connection serves on.
    peer.send(call(CALLS));
    await until(() => answers.length === CALLS + 1);
    t.is(answers[CALLS].to, `P${CALLS}`);
    t.is(socket.isPaused, false);
    handle.close();
});

const W3CWebSocket = globalThis.WebSocket || require('undici').WebSocket;

test('W3C socket (cannot pause): a peer that floods past the mark while not reading is closed with a clear error', async (t) => {
    const url = await server(t, (peer) => {
        // The hostile peer is the server: it does not read, and floods.
        peer.pause();
        let sent = 0;
        (function pump() {
            if (peer.readyState !== WebSocket.OPEN) return;
            while (sent < 100000 && peer.bufferedAmount < (1 << 20)) peer.send(call(sent++));
            if (sent < 100000) setImmediate(pump);
        })();
    });
    let served = 0;
    const client = new W3CWebSocket(url);
    const handle = open(client, { echo: (text) => { served++; return text; } },
        { maxBufferedBytes: MARK, extensions: false });
    const cause = await handle.closed.then((value) => value, (error) => error);
    t.log(`served ${served}; closed: ${cause && cause.message}`);
    t.regex(String(cause && cause.message), /while not reading our answers \(over 262144 bytes buffered, maxBufferedBytes\)/);
    t.true(served < 100000);
});
