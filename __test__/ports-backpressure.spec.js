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
const { call, until, sleep, floodingPeer, checkAnswers, sampler } = require('./helpers/backpressure');

const MARK = 256 << 10;
const CALLS = 3000; // each answer is ~4 KiB: ~12 MiB in all
// What may be sent past the mark before reads stop: the answers to calls
// already read (one socket read, ~64 KiB of calls, and a turn's batch).
// Generous; the figure is logged.
const SLACK = 2 << 20;
// Generous (a shared machine, ava's own heap): without the mark, ~12 MiB of
// answers would wait anyway; this only catches a runaway.
const RSS_BOUND = 200 << 20;

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

test('ws port: a peer that floods calls and does not read; bounded, then every call answered in order', async (t) => {
    let served = 0;
    let socket = null;
    let handle = null;
    const url = await server(t, (accepted) => {
        socket = accepted;
        handle = open(accepted, { echo: (text) => { served++; return text; } },
            { maxBufferedBytes: MARK, extensions: false });
    });
    const buffered = sampler(t, () => (socket ? socket.bufferedAmount : 0));
    const rss = process.memoryUsage().rss;
    const { peer, answers } = await floodingPeer(t, url, CALLS);

    // Our side stops reading (paused) before serving every call.
    await until(() => socket && socket.isPaused);
    const servedWhilePaused = served;
    await sleep(200);
    t.log(`served ${served} of ${CALLS} while the peer did not read; ` +
        `max bufferedAmount ${buffered.max} (mark ${MARK}); RSS +${(process.memoryUsage().rss - rss) >> 20} MiB`);
    t.is(served, servedWhilePaused, 'no call is served while backed up');
    t.true(served < CALLS);
    t.true(buffered.max <= MARK + SLACK, `bufferedAmount reached ${buffered.max}`);
    t.true(process.memoryUsage().rss - rss < RSS_BOUND);
    t.is(answers.length, 0);

    // The peer reads: every call is answered, in order.
    peer.resume();
    await until(() => answers.length >= CALLS);
    t.is(served, CALLS);
    checkAnswers(t, answers, CALLS);
    t.true(buffered.max <= MARK + SLACK, `bufferedAmount reached ${buffered.max}`);

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
