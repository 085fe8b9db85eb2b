'use strict';

// What a local method returns is what the caller gets, whichever kind of
// value it is: the answering side settles plain values at once and coerces
// promises and foreign thenables with Q (lib/dispatch.js dispatchPlain), with
// the guard on and off, and an operation is applied exactly once.

const test = require('ava');
const Q = require('q');
const { MessageChannel } = require('worker_threads');
const Connection = require('..');

function thenable(settle) {
    return { then: (resolve, reject) => setTimeout(() => settle(resolve, reject), 5) };
}

function makeLocal(counts) {
    const count = (name) => { counts[name] = (counts[name] || 0) + 1; };
    return {
        plain(x) { count('plain'); return x + 1; },
        qPromise(x) { count('qPromise'); return Q.delay(5).then(() => x * 2); },
        nativePromise(x) { count('nativePromise'); return Promise.resolve(x * 3); },
        foreign(x) { count('foreign'); return thenable((resolve) => resolve(x * 4)); },
        foreignRejects() { count('foreignRejects'); return thenable((_, reject) => reject(new Error('no thanks'))); },
        throws() { count('throws'); throw new RangeError('thrown here'); },
        nothing() { count('nothing'); }
    };
}

for (const guard of [true, false]) {
    test(`every kind of result reaches the caller once (guard: ${guard})`, async (t) => {
        const counts = {};
        const { port1, port2 } = new MessageChannel();
        Connection(port2, makeLocal(counts), { guard });
        const far = Connection(port1);
        t.is(await far.invoke('plain', 1), 2);
        t.is(await far.invoke('qPromise', 2), 4);
        t.is(await far.invoke('nativePromise', 2), 6);
        t.is(await far.invoke('foreign', 2), 8);
        t.is(await far.invoke('nothing'), undefined);
        await t.throwsAsync(far.invoke('foreignRejects'), { message: 'no thanks' });
        await t.throwsAsync(far.invoke('throws'), { message: 'thrown here' });
        // A promise as the target itself still goes the long way.
        t.is(await far.get('plain').fcall(9), 10);
        t.deepEqual(counts, {
            plain: 2, qPromise: 1, nativePromise: 1, foreign: 1, foreignRejects: 1, throws: 1, nothing: 1
        });
        port1.close();
    });
}
