'use strict';

// End to end through Connection over streams framed as newline-delimited
// JSON: a net.Socket pair on 127.0.0.1, a child connecting to our net
// server, and a child's stdio pair {readable: child.stdout, writable:
// child.stdin} (process.stdin/stdout on the child's side).

const net = require('net');
const test = require('ava');
const { open } = require('../lib/connection');
const { adaptPort } = require('../lib/ports');
const {
    startPeer, rejectsWithCause, checkCalls, checkLocalClose, exitOf, peerRoot
} = require('./helpers/e2e');
// What a stream reports when its peer goes away: a FIN, a close, a reset, or
// a write that meets the dead pipe first (seen under load).
const GONE = /^(stream ended|stream closed|read ECONNRESET|write EPIPE)$/;

async function listen(t) {
    const server = net.createServer();
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.teardown(() => new Promise((resolve) => server.close(resolve)));
    return server;
}

const accepted = (server) => new Promise((resolve) => server.once('connection', resolve));

// Two connections over one TCP connection, both ends in this process.
async function socketPair(t) {
    const server = await listen(t);
    const serverSide = accepted(server);
    const client = net.connect(server.address().port, '127.0.0.1');
    const socket = await serverSide;
    t.teardown(() => { client.destroy(); socket.destroy(); });
    return { client, socket };
}

test('net.Socket: round trip, callback, close() ends the far side too', async (t) => {
    const { client, socket } = await socketPair(t);
    const far = open(socket, peerRoot(() => far));
    const events = ['data', 'end', 'close', 'error'];
    const before = events.map((name) => client.listenerCount(name));
    const handle = open(client, {});
    await checkCalls(t, handle);
    await checkLocalClose(t, handle);
    t.is((await far.closed).message, 'stream ended');
    // Both sockets close entirely: neither keeps the process alive.
    await Promise.all([client, socket].map((end) =>
        end.closed || new Promise((resolve) => end.once('close', resolve))));
    // Ours are removed, but for a no-op 'error' listener kept after close.
    const after = events.map((name) => client.listenerCount(name));
    t.deepEqual(after, [before[0], before[1], before[2], before[3] + 1]);
});

test('net.Socket: the far socket destroyed in the middle of a call', async (t) => {
    const { client, socket } = await socketPair(t);
    const far = open(socket, peerRoot(() => far));
    const handle = open(client, {});
    t.is(await handle.remote.invoke('add', 1, 2), 3);
    const pending = handle.remote.invoke('hang');
    socket.destroy();
    await rejectsWithCause(t, pending, GONE);
    t.is((await far.closed).message, 'stream closed');
});

test('net.Socket: framing across chunks, several per chunk, split UTF-8', async (t) => {
    const { client, socket } = await socketPair(t);
    const received = [];
    let arrived;
    const all = new Promise((resolve) => { arrived = resolve; });
    adaptPort(socket, {}, {
        message(text) {
            received.push(text);
            if (received.length === 4) arrived();
        },
        closed() {}
    });
    const snowman = Buffer.from('"\u2603"\n');
    client.write('"one"\n\n"tw');
    await new Promise((resolve) => setTimeout(resolve, 20));
    client.write('o"\n' + snowman.subarray(0, 2).toString('latin1'), 'latin1');
    await new Promise((resolve) => setTimeout(resolve, 20));
    client.write(snowman.subarray(2));
    // A raw newline in JSON is whitespace: sent as a space, one line.
    adaptPort(client, {}, { message() {}, closed() {} }).send('{"a":\n1}');
    await all;
    t.deepEqual(received, ['"one"', '"two"', '"\u2603"', '{"a": 1}']);
});

test('net.Socket: an over-long line is dropped up to its newline and reported', async (t) => {
    const { client, socket } = await socketPair(t);
    const errors = [];
    let reported;
    const firstError = new Promise((resolve) => { reported = resolve; });
    const far = open(socket, peerRoot(() => far), {
        maxMessageBytes: 200,
        onerror: (error) => reported(errors.push(error))
    });
    const handle = open(client, {});
    t.is(await handle.remote.invoke('add', 1, 2), 3);
    // The connection releases that answer (docs/PROTOCOL-EXTENSIONS.md) after
    // this turn; let it go out before raw text shares the stream.
    await new Promise((resolve) => setImmediate(resolve));
    // 300 characters with no newline in sight: reported before the line
    // ends, and the rest of it is dropped.
    client.write('x'.repeat(300));
    await firstError;
    client.write('x'.repeat(50) + '\n');
    t.is(await handle.remote.invoke('add', 2, 3), 5);
    t.is(errors.length, 1);
    t.is(errors[0].code, 'ETOOLARGE');
    t.is(errors[0].message, 'stream message longer than 200 characters: dropped up to its newline');
    t.is(far.stats().errors, 1);
});

test('child over net: round trip, callback, killed in the middle of a call', async (t) => {
    const server = await listen(t);
    const serverSide = accepted(server);
    const child = startPeer(t, ['net:' + server.address().port]);
    const handle = open(await serverSide, {});
    await checkCalls(t, handle);
    const pending = handle.remote.invoke('hang');
    child.kill('SIGKILL');
    await rejectsWithCause(t, pending, GONE, 2000, exitOf(child));
});

test('child over net: our close() lets the child exit by itself', async (t) => {
    const server = await listen(t);
    const serverSide = accepted(server);
    const child = startPeer(t, ['net:' + server.address().port]);
    // The child's only connection is the socket: IPC is not kept alive.
    child.disconnect();
    const handle = open(await serverSide, {});
    t.is(await handle.remote.invoke('add', 2, 2), 4);
    await handle.close();
    t.deepEqual(await exitOf(child), { code: 0, signal: null, said: 'peer closed: stream ended' });
});

const spawnStdioPeer = (t) => startPeer(t, ['stdio'], { ipc: false });

test('child stdio pair: round trip, callback, close() lets the child exit', async (t) => {
    const child = spawnStdioPeer(t);
    const handle = open({ readable: child.stdout, writable: child.stdin }, {});
    await checkCalls(t, handle);
    await checkLocalClose(t, handle);
    t.deepEqual(await exitOf(child), { code: 0, signal: null, said: 'peer closed: stream ended' });
});

test('child stdio pair: the child killed in the middle of a call', async (t) => {
    const child = spawnStdioPeer(t);
    const handle = open({ readable: child.stdout, writable: child.stdin }, {});
    t.is(await handle.remote.invoke('add', 1, 2), 3);
    const pending = handle.remote.invoke('hang');
    child.kill('SIGKILL');
    await rejectsWithCause(t, pending, GONE, 2000, exitOf(child));
});
