'use strict';

// `npm run demo`: q-connection-rs end to end. Each section opens its own
// connection, makes calls, prints what happened and the connection's message
// counts, and closes everything it opened, so the process exits by itself.
// To add a section (a WebSocket server, say), append { title, run } to
// SECTIONS; `run(log)` returns a promise and must release what it opens.

const path = require('path');
const { Worker } = require('worker_threads');
const Connection = require('..');

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

const SECTIONS = [
    { title: 'A worker thread over its MessagePort', run: workerSection },
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
