'use strict';

// A peer flood: a child process sends 1,000,000 messages over a real
// WebSocket on 127.0.0.1 as fast as TCP lets it, to a server on a `ws` port
// and to one on the native (Rust) transport. The server's memory stays
// bounded (TCP backpressure on reading: the `ws` port reads as the JS thread
// handles, the native link stops reading while its inbox is full; the
// pending-calls limit refuses the never-settling calls past 10,000), its event loop stays responsive (a
// well-behaved client on another socket is answered all along), and no
// answer owed to a well-formed call is lost.

const path = require('path');
const test = require('ava');
const { spawn } = require('child_process');
const { monitorEventLoopDelay } = require('perf_hooks');
const { WebSocketServer, WebSocket } = require('ws');
const Q = require('q');
const Connection = require('..');

const { open } = Connection;

const COUNT = 1000000;
const FLOODER = path.join(__dirname, 'fixtures', 'flooder.js');
// Generous bounds, for a slow shared 2-core machine: what matters is that
// they do not scale with the number of messages (the figures are logged).
const RSS_GROWTH_BOUND = 400 << 20;
// Responsive: the 99th percentile of event-loop delay (the max is logged;
// one GC pause or a starved CPU on a shared machine can stretch it alone).
const DELAY_P99_BOUND_MS = 2000;

/** Lines of JSON a child prints, as a promise per line. */
function jsonLines(stream) {
    let buffer = '';
    const waiting = [];
    const lines = [];
    stream.on('data', (chunk) => {
        buffer += chunk;
        let end;
        while ((end = buffer.indexOf('\n')) >= 0) {
            lines.push(JSON.parse(buffer.slice(0, end)));
            buffer = buffer.slice(end + 1);
            while (waiting.length && lines.length) waiting.shift()(lines.shift());
        }
    });
    return () => (lines.length ? Promise.resolve(lines.shift()) : new Promise((resolve) => waiting.push(resolve)));
}

function received(stats) {
    return stats.sendsIn + stats.resolvesIn + stats.notifiesIn + stats.malformed + stats.ignored;
}

/**
 * A server for `root` over `ws` (a `ws` WebSocketServer, each socket opened
 * with lib/connection.js) or `native` (Connection.listen, sockets in Rust):
 * {port, handles (server-side handles, in accept order), connect() -> a
 * client handle}. Closed after the test.
 */
async function serve(t, transport, root, options) {
    const handles = [];
    if (transport === 'native') {
        const server = await Connection.listen({ local: root, ...options });
        server.on('connection', (handle) => handles.push(handle));
        t.teardown(() => server.close());
        const url = `ws://127.0.0.1:${server.address().port}`;
        return { port: server.address().port, handles, connect: () => Connection.connect(url, {}) };
    }
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => wss.once('listening', resolve));
    wss.on('connection', (socket) => handles.push(open(socket, root, options)));
    t.teardown(() => {
        wss.clients.forEach((socket) => socket.terminate());
        return new Promise((resolve) => wss.close(resolve));
    });
    const url = `ws://127.0.0.1:${wss.address().port}`;
    return { port: wss.address().port, handles, connect: async () => open(new WebSocket(url), {}) };
}

for (const transport of ['ws', 'native']) {
    test.serial(`${transport}: 1,000,000 flooded messages: bounded memory, a responsive loop, nothing lost`, (t) => flood(t, transport));
}

async function flood(t, transport) {
    t.timeout(240000);
    const codes = {};
    const root = { ping: () => 'pong', wait: () => Q.defer().promise };
    const server = await serve(t, transport, root, {
        onerror(error) {
            codes[error.code] = (codes[error.code] || 0) + 1;
        }
    });
    const { handles } = server;

    // A well-behaved client, connected first, that keeps calling during the flood.
    const good = await server.connect();
    t.is(await good.remote.invoke('ping'), 'pong');
    const flood = handles.length;

    const delay = monitorEventLoopDelay({ resolution: 10 });
    const baseline = process.memoryUsage().rss;
    let peakRss = baseline;
    const sampler = setInterval(() => {
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 50);
    delay.enable();
    const started = Date.now();
    const child = spawn(process.execPath, [FLOODER, String(server.port), String(COUNT)], {
        stdio: ['ignore', 'pipe', 'inherit']
    });
    const next = jsonLines(child.stdout);

    let goodCalls = 0;
    let goodAnswers = 0;
    let slowestGoodCall = 0;
    let floodDone = false;
    const goodLoop = (async () => {
        while (!floodDone) {
            const asked = Date.now();
            goodCalls++;
            t.is(await good.remote.invoke('ping'), 'pong');
            goodAnswers++;
            slowestGoodCall = Math.max(slowestGoodCall, Date.now() - asked);
            await Q.delay(20);
        }
    })();

    t.deepEqual(await next(), { sent: COUNT });
    let stats;
    for (;;) {
        stats = handles[flood].stats();
        if (received(stats) >= COUNT) break;
        await Q.delay(50);
    }
    const elapsed = Date.now() - started;
    t.log(`flood received in ${elapsed} ms`);
    // The pongs and refusals already sent are in flight; one more round trip
    // on the flood socket flushes them in order.
    floodDone = true;
    await goodLoop;
    delay.disable();
    clearInterval(sampler);
    await new Promise((resolve) => setTimeout(resolve, 200));
    handles[flood].close();
    const { answers } = await next();

    // Nothing lost for the well-formed calls: each ping and wait is answered,
    // refused with a rejection (the flooder's 10,000 parked waits fill its
    // quota, so its pings in flight are refused too), or is one of the
    // 10,000 waits still pending. The rest were counted and reported.
    const calls = (COUNT / 10) * 3;
    t.is(received(stats), COUNT);
    t.true(stats.callsRefused >= COUNT / 10 - 10000, `callsRefused ${stats.callsRefused}`);
    t.is(answers, calls - 10000);
    t.deepEqual(codes, { ELIMIT: stats.callsRefused, EMALFORMED: COUNT / 5, EFIELD: COUNT / 5, ELOST: (COUNT / 10) * 3 });
    // Bounded: JS slots and engine tables hold only the 10,000 pending calls.
    t.true(stats.slots <= 10000 + 10, `slots ${stats.slots}`);
    const growth = peakRss - baseline;
    t.true(growth < RSS_GROWTH_BOUND, `RSS grew ${(growth / 1048576).toFixed(0)} MiB`);
    const maxDelay = delay.max / 1e6;
    const p99 = delay.percentile(99) / 1e6;
    t.true(p99 < DELAY_P99_BOUND_MS, `event-loop delay p99 ${p99.toFixed(0)} ms`);
    t.true(goodAnswers === goodCalls && goodAnswers > 0);
    const figures = `${COUNT} messages in ${elapsed} ms (${Math.round(COUNT / (elapsed / 1000))}/s); ` +
        `RSS +${(growth / 1048576).toFixed(0)} MiB at peak; event-loop delay p50 ${(delay.percentile(50) / 1e6).toFixed(1)} ms, ` +
        `p99 ${p99.toFixed(1)} ms, max ${maxDelay.toFixed(0)} ms; ` +
        `good client: ${goodAnswers} calls answered during the flood, slowest ${slowestGoodCall} ms; ` +
        `flood calls refused past the limit ${stats.callsRefused}`;
    t.log(figures);
    console.log(`guard-flood (${transport}): ${figures}`);
    good.close();
}
