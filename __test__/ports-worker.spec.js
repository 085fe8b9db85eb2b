'use strict';

// End to end through Connection over worker_threads: a Worker and its
// parentPort, and a MessageChannel port transferred to a worker. Each with
// a real peer thread (__test__/fixtures/peer.js), the peer dying in the
// middle of a call, and interop with q-connection 0.6.1 both ways.

const path = require('path');
const test = require('ava');
const { Worker } = require('worker_threads');
const { open } = require('../lib/connection');
const {
    channelPeer, rejectsWithCause, checkCalls, checkLocalClose
} = require('./helpers/e2e');

const PEER = path.join(__dirname, 'fixtures', 'peer.js');

// A peer worker on its parentPort; terminated after the test.
function parentPortPeer(t) {
    const worker = new Worker(PEER, { workerData: { port: 'parentPort' } });
    t.teardown(() => worker.terminate());
    return worker;
}

const exited = (worker) => new Promise((resolve) => worker.once('exit', resolve));

test('Worker: round trip, callback, close()', async (t) => {
    const handle = open(parentPortPeer(t), {});
    await checkCalls(t, handle);
    await checkLocalClose(t, handle);
});

test('Worker: terminate() in the middle of a call rejects it with the exit', async (t) => {
    const worker = parentPortPeer(t);
    const handle = open(worker, {});
    t.is(await handle.remote.invoke('add', 1, 2), 3);
    const pending = handle.remote.invoke('hang');
    worker.terminate();
    await rejectsWithCause(t, pending, 'worker exited with code 1', 2000, exited(worker));
    t.is((await handle.closed).message, 'worker exited with code 1');
    await rejectsWithCause(t, handle.remote.invoke('add', 1, 2), 'worker exited with code 1', 100);
    t.is(worker.listenerCount('message'), 0);
    t.is(worker.listenerCount('exit'), 0);
});

test('Worker: a worker that exits in the middle of the call rejects it', async (t) => {
    const worker = parentPortPeer(t);
    const handle = open(worker, {});
    await rejectsWithCause(t, handle.remote.invoke('exit', 7), 'worker exited with code 7',
        2000, exited(worker));
});

test('Worker: the worker closing its parentPort connection ends it', async (t) => {
    const worker = parentPortPeer(t);
    const handle = open(worker, {});
    const gone = exited(worker);
    const pending = handle.remote.invoke('hang');
    t.is(await handle.remote.invoke('close', 'peer leaves'), 'closing');
    // The worker's connection closed parentPort; nothing keeps it running.
    await rejectsWithCause(t, pending, 'worker exited with code 0', 2000, gone);
    t.is(await gone, 0);
});

test('MessagePort: round trip, callback, close() lets the peer thread exit', async (t) => {
    const { worker, port } = channelPeer(t);
    const gone = exited(worker);
    const handle = open(port, {});
    await checkCalls(t, handle);
    await checkLocalClose(t, handle);
    // The worker's only connection saw the port close and removed its
    // listeners: the thread ends by itself.
    t.is(await gone, 0);
});

test('MessagePort: the peer thread terminated in the middle of a call', async (t) => {
    const { worker, port } = channelPeer(t);
    const handle = open(port, {});
    t.is(await handle.remote.invoke('add', 1, 2), 3);
    const pending = handle.remote.invoke('hang');
    worker.terminate();
    await rejectsWithCause(t, pending, 'MessagePort closed', 2000, exited(worker));
    t.is(port.listenerCount('message'), 0);
    t.is(port.listenerCount('close'), 0);
});
