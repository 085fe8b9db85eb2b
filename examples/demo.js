'use strict';

// `npm run demo`: q-connection-rs end to end. Each section opens its own
// connection, makes calls, prints what happened and the connection's message
// counts, and closes everything it opened, so the process exits by itself.
// To add a section, append { title, run } to SECTIONS; `run(log)` returns a promise and must release what it opens.

const path = require('path');
const { Worker } = require('worker_threads');
const Connection = require('..');
const { makeLocal } = require('./counter');

/** A worker thread serving examples/counter-worker.js over its parentPort. */
async function workerSection(log) {
    const worker = new Worker(path.join(__dirname, 'counter-worker.js'));
    const connection = Connection.open(worker, {});
    const counter = connection.remote;
    try {
        // The seed README's example.
        for (let i = 0; i < 3; i++) {
            log('counter at', await counter.invoke('next'));
        }

        // A chain of dependent calls, sent on promises that have not settled:
        // makeCounter returns a far object (a class instance), step returns it
        // again, next reads it.
        const before = connection.stats().sendsOut;
        const value = await counter.invoke('makeCounter', 'chain', 100)
            .invoke('step')
            .invoke('step')
            .invoke('next');
        log('pipelined chain makeCounter(100).step().step().next() =', value,
            `(${connection.stats().sendsOut - before} calls sent)`);

        // A callback: the worker calls a function of ours three times.
        const sum = await counter.invoke('tick', 3, (i) => {
            log('  worker called back with', i);
            return i * i;
        });
        log('tick(3) summed our answers:', sum);

        // `await` on a far object settles on a reference that still takes messages.
        const far = await counter.invoke('makeCounter', 'awaited', 7);
        log('awaited a far counter; its next() is', await far.invoke('next'));

        const stats = connection.stats();
        log('messages: sent', stats.sendsOut, 'calls and', stats.resolvesOut, 'answers;',
            'received', stats.sendsIn, 'calls,', stats.resolvesIn, 'answers and',
            stats.notifiesIn, 'progress notes;', stats.exports, 'of our objects exported,',
            stats.questions, 'calls pending');
    } finally {
        await connection.close(new Error('demo over'));
        await worker.terminate();
    }
}

/**
 * Counts the round trips a connection waited for, from its trace: a message
 * out after a message in (or the very first) starts a new trip, so calls
 * sent together share one trip and a call that had to wait for an answer
 * starts another.
 */
function roundTrips() {
    let trips = 0;
    let heardBack = true;
    return {
        trace(direction) {
            if (direction === 'in') {
                heardBack = true;
            } else if (heardBack) {
                trips++;
                heardBack = false;
            }
        },
        /** The trips since the last call of take(). */
        take() {
            const count = trips;
            trips = 0;
            heardBack = true;
            return count;
        },
    };
}

function tripsText(count) {
    return `${count} round trip${count === 1 ? '' : 's'}`;
}

/** A native WebSocket server (Rust, tokio) and a native client calling it. */
async function webSocketSection(log) {
    const server = await Connection.listen({ host: '127.0.0.1', port: 0, local: () => makeLocal() });
    const { port } = server.address();
    log(`server listening on ws://127.0.0.1:${port}`);
    const counted = roundTrips();
    const client = await Connection.connect(`ws://127.0.0.1:${port}`, {}, { name: 'ws-client', trace: counted.trace });
    const counter = client.remote;
    try {
        await counter.invoke('next');
        counted.take();

        const chain = counter.invoke('makeCounter', 'ws', 10).invoke('step').invoke('next');
        log('pipelined chain makeCounter(10).step().next() =', await chain, `(3 calls, ${tripsText(counted.take())})`);

        const values = await Promise.all(Array.from({ length: 100 }, () => counter.invoke('next')));
        log('100 calls sent at once: counter went', values[0], 'to', values[99],
            `in ${tripsText(counted.take())}`);

        const sum = await counter.invoke('tick', 2, (i) => i * 10);
        log('tick(2) over the socket summed our answers:', sum, `(${tripsText(counted.take())}: the server called us back)`);

        const stats = client.stats();
        log('messages: sent', stats.sendsOut, 'calls and', stats.resolvesOut, 'answers; received',
            stats.resolvesIn, 'answers;', server.stats().connections, 'socket open on the server');
    } finally {
        await client.close(new Error('demo over'));
        await server.close();
    }
}

const SECTIONS = [
    { title: 'A worker thread over its MessagePort', run: workerSection },
    { title: 'A native WebSocket server and client', run: webSocketSection },
];

async function main() {
    for (const section of SECTIONS) {
        console.log(`\n== ${section.title}`);
        await section.run((...words) => console.log(...words));
    }
}

main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
});
