'use strict';

// End to end through Connection over WebSockets on 127.0.0.1: `ws` on both
// sides, a W3C WebSocket client (Node's global one, else undici's) against
// a `ws` server, and clients in child processes: ws, undici and Node's own
// WebSocket. Interop with 0.6.1 is in ports-interop.spec.js.

const net = require('net');
const test = require('ava');
const { WebSocket } = require('ws');
const { open } = require('../lib/connection');
const {
    startPeer, wsServer, rejectsWithCause, checkCalls, checkLocalClose, exitOf, peerRoot
} = require('./helpers/e2e');

const W3CWebSocket = globalThis.WebSocket || require('undici').WebSocket;

// A client socket of `Kind` to a fresh server, the server side served by
// ours as a peerRoot; resolves with both ends.
async function servedPair(t, Kind) {
    const server = await wsServer(t);
    const accepted = server.accepted();
    const client = new Kind(server.url);
    t.teardown(() => client.close());
    const socket = await accepted;
    const far = open(socket, peerRoot(() => far));
    return { client, socket, far };
}

test('ws: round trip, callback, close() closes the far side with 1000', async (t) => {
    const { client, far } = await servedPair(t, WebSocket);
    // Calls made while the client connects are queued until 'open'.
    const handle = open(client, {});
    await checkCalls(t, handle);
    await checkLocalClose(t, handle);
    t.is((await far.closed).message, 'WebSocket closed: 1000');
    t.is(client.listenerCount('message'), 0);
});

test('ws: the server side terminated in the middle of a call', async (t) => {
    const { client, socket, far } = await servedPair(t, WebSocket);
    const handle = open(client, {});
    t.is(await handle.remote.invoke('add', 1, 2), 3);
    const pending = handle.remote.invoke('hang');
    socket.terminate();
    await rejectsWithCause(t, pending, 'WebSocket closed: 1006');
    t.is((await far.closed).message, 'WebSocket closed: 1006');
});

test('W3C WebSocket: round trip, callback, close()', async (t) => {
    const { client, far } = await servedPair(t, W3CWebSocket);
    const handle = open(client, {});
    await checkCalls(t, handle);
    await checkLocalClose(t, handle);
    t.is((await far.closed).message, 'WebSocket closed: 1000');
});

test('W3C WebSocket: the server side terminated in the middle of a call', async (t) => {
    const { client, socket } = await servedPair(t, W3CWebSocket);
    const handle = open(client, {});
    t.is(await handle.remote.invoke('add', 1, 2), 3);
    const pending = handle.remote.invoke('hang');
    socket.terminate();
    await rejectsWithCause(t, pending, 'WebSocket closed: 1006');
});

test('W3C WebSocket: a refused connection rejects the queued call', async (t) => {
    // A port nobody listens on: taken, then released.
    const probe = net.createServer();
    await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address();
    await new Promise((resolve) => probe.close(resolve));
    const handle = open(new W3CWebSocket('ws://127.0.0.1:' + port), {});
    await rejectsWithCause(t, handle.remote.invoke('add', 1, 2), 'WebSocket closed: 1006');
});

// Node's own global WebSocket: on by default from Node 22, behind a flag on
// Node 20 and 21.
const GLOBAL_WEBSOCKET_FLAGS = typeof globalThis.WebSocket === 'function' ?
    [] : ['--experimental-websocket'];

for (const [scheme, name, execArgv] of [
    ['ws', 'a ws', []],
    ['undici', 'an undici WebSocket', []],
    ['w3c', "Node's global WebSocket", GLOBAL_WEBSOCKET_FLAGS]
]) {
    test(`child with ${name} client: killed in the middle of a call`, async (t) => {
        const server = await wsServer(t);
        const accepted = server.accepted();
        const child = startPeer(t, [scheme + ':' + server.port], { execArgv });
        const handle = open(await accepted, {});
        await checkCalls(t, handle);
        const pending = handle.remote.invoke('hang');
        child.kill('SIGKILL');
        await rejectsWithCause(t, pending, 'WebSocket closed: 1006', 2000, exitOf(child));
    });

    test(`child with ${name} client: exits by itself once we close`, async (t) => {
        const server = await wsServer(t);
        const accepted = server.accepted();
        const child = startPeer(t, [scheme + ':' + server.port], { execArgv });
        child.disconnect(); // the socket is the child's only connection
        const handle = open(await accepted, {});
        t.is(await handle.remote.invoke('add', 2, 2), 4);
        await handle.close();
        t.deepEqual(await exitOf(child), {
            code: 0, signal: null, said: 'peer closed: WebSocket closed: 1000'
        });
    });
}
