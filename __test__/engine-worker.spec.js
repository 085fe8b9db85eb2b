'use strict';

// The engine through a MessageChannel between this thread and a real
// worker_threads Worker: every scenario of helpers/scenarios.js, plus the
// seed README's port examples.

const test = require('ava');
const { workerTransport } = require('./helpers/peers');
const { register } = require('./helpers/scenarios');

const transport = workerTransport();
test.after.always(() => transport.dispose());
register(test, transport);

// The seed README's ports, beyond the MessageChannel the scenarios use.

const path = require('path');
const { MessageChannel, Worker } = require('worker_threads');
const Q = require('q');
const Connection = require('..');

const COUNTER_WORKER = path.join(__dirname, '..', 'examples', 'counter-worker.js');

test('README: Connection(new Worker(...)) reaches the worker\'s parentPort', async (t) => {
    const worker = new Worker(COUNTER_WORKER);
    try {
        const child = Connection(worker, {});
        t.true(Q.isPromise(child));
        t.deepEqual(await Promise.all([child.invoke('next'), child.invoke('next')]), [0, 1]);
        // Pipelined: the counter is a far object, stepped before it arrives.
        t.is(await child.invoke('makeCounter', 'c', 10).invoke('step').invoke('next'), 11);
        const heard = [];
        t.is(await child.invoke('tick', 3, (i) => { heard.push(i); return i * 10; }), 60);
        t.deepEqual(heard, [1, 2, 3]);
    } finally {
        await worker.terminate();
    }
});

test('a Worker that exits rejects pending calls with the exit as cause', async (t) => {
    const worker = new Worker(COUNTER_WORKER);
    const handle = Connection.open(worker, {});
    let called;
    const answered = new Promise((resolve) => { called = resolve; });
    // The worker waits on our listener, which never answers.
    const pending = handle.remote.invoke('tick', 1, () => { called(); return Q.defer().promise; });
    await answered;
    await worker.terminate();
    const error = await pending.then(() => null, (e) => e);
    t.is(error.message, 'Connection closed because: worker exited with code 1');
    t.is(error.cause, await handle.closed);
    t.is(handle.stats().questions, 0);
    t.is((await handle.remote.invoke('next').then(() => null, (e) => e)).message, error.message);
});

test('README: a MessageChannel pair in one thread, both sides serving', async (t) => {
    const port = new MessageChannel();
    const near = Connection.open(port.port1, { side: () => 'near' });
    const far = Connection.open(port.port2, { side: () => 'far' });
    t.is(await near.remote.invoke('side'), 'far');
    t.is(await far.remote.invoke('side'), 'near');
    near.close(new Error('done'));
    const reason = await far.closed;
    t.is(reason.message, 'MessagePort closed');
});

test('README: a {postMessage, onmessage} duck type over a Node MessagePort', async (t) => {
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(path.join(__dirname, 'fixtures', 'service-worker.js'));
    try {
        worker.postMessage({ port: port2, impl: 'rs' }, [port2]);
        const port = {
            postMessage(message) {
                port1.postMessage(message);
            },
            onmessage: null, // filled in by the connection
        };
        port1.on('message', (data) => port.onmessage({ data }));
        const remote = Connection(port, {});
        t.is(typeof port.onmessage, 'function');
        t.is(await remote.invoke('add', 40, 2), 42);
        t.is(await remote.invoke('callBack', (x) => x + 1, 1), 2);
    } finally {
        port1.close();
        await worker.terminate();
    }
});

test('README: a Q channel duck type {get, put, close, closed} over a MessagePort', async (t) => {
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(path.join(__dirname, 'fixtures', 'service-worker.js'));
    try {
        worker.postMessage({ port: port2, impl: 'rs' }, [port2]);
        const inbox = Connection.Queue();
        port1.on('message', (data) => inbox.put(data));
        port1.on('close', () => inbox.close(new Error('port closed')));
        const channel = {
            get: inbox.get,
            put: (message) => port1.postMessage(message),
            close: (reason) => { port1.close(); return inbox.close(reason); },
            closed: inbox.closed,
        };
        const handle = Connection.open(channel, {});
        t.is(await handle.remote.invoke('echo', 'through a channel'), 'through a channel');
        const pending = handle.remote.invoke('never');
        t.is(await handle.remote.invoke('closeConnection', 'bye'), 'closing');
        const error = await pending.then(() => null, (e) => e);
        t.is(error.message, 'Connection closed because: port closed');
        t.is((await handle.closed).message, 'port closed');
    } finally {
        await worker.terminate();
    }
});
