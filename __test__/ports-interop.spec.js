'use strict';

// Ours and the real q-connection 0.6.1 on the two ends of a MessagePort (a
// worker thread on the far end) and of a `ws` socket, each side calling the
// other. 0.6.1 does not notice a dead port; ours does, whoever is across.
//
// 0.6.1 is loaded through helpers/q-connection-061 and only in this spec:
// its collections shims change built-ins for the whole process.

const test = require('ava');
const { WebSocket } = require('ws');
const { Connection: QConnection061 } = require('./helpers/q-connection-061');
const { open } = require('../lib/connection');
const {
    channelPeer, wsServer, peerRoot, rejectsWithCause, checkCalls
} = require('./helpers/e2e');

const exited = (worker) => new Promise((resolve) => worker.once('exit', resolve));

test('MessagePort: ours calls 0.6.1 in a worker; its death rejects our call', async (t) => {
    const { worker, port } = channelPeer(t, '0.6.1');
    const handle = open(port, {});
    await checkCalls(t, handle);
    t.is(await handle.remote.invoke('add', 'a', 'b'), 'ab');
    const pending = handle.remote.invoke('hang');
    const gone = exited(worker);
    worker.terminate();
    await rejectsWithCause(t, pending, 'MessagePort closed', 2000, gone);
});

test('MessagePort: 0.6.1 calls ours in a worker', async (t) => {
    const { worker, port } = channelPeer(t, 'ours');
    const remote = QConnection061(port, peerRoot(null));
    await checkCalls(t, { remote });
    // 0.6.1 does not notice a closed port itself; ours, on the far side,
    // does, and the worker ends by itself.
    const gone = exited(worker);
    port.close();
    t.is(await gone, 0);
});

test('ws: ours (client) calls 0.6.1 (server side); its death rejects our call', async (t) => {
    const server = await wsServer(t);
    const accepted = server.accepted();
    const client = new WebSocket(server.url);
    t.teardown(() => client.terminate());
    const socket = await accepted;
    QConnection061(socket, peerRoot(null));
    const handle = open(client, {});
    await checkCalls(t, handle);
    t.is(await handle.remote.invoke('add', 'a', 'b'), 'ab');
    const pending = handle.remote.invoke('hang');
    socket.terminate();
    await rejectsWithCause(t, pending, 'WebSocket closed: 1006');
});

test('ws: 0.6.1 (client) calls ours (server side)', async (t) => {
    const server = await wsServer(t);
    const accepted = server.accepted();
    const client = new WebSocket(server.url);
    t.teardown(() => client.terminate());
    const socket = await accepted;
    const far = open(socket, peerRoot(() => far));
    // 0.6.1 sends on a `ws` socket at once: it needs an open one.
    if (client.readyState !== WebSocket.OPEN) {
        await new Promise((resolve) => client.once('open', resolve));
    }
    await checkCalls(t, { remote: QConnection061(client, peerRoot(null)) });
    client.terminate();
    t.is((await far.closed).message, 'WebSocket closed: 1006');
});
