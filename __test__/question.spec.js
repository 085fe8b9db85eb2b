'use strict';

// The promise a call returns (lib/question.js) keeps Q's guarantees for
// `then`: its callbacks never run in the turn of the `then` nor of the
// answer, they run in the order of the `then`s, and a message sent to the
// promise before a `then` is applied to the answer before that `then`'s
// callback runs, as with a Q deferred's promise.

const test = require('ava');
const Q = require('q');
const v8 = require('v8');
const vm = require('vm');
const { MessageChannel } = require('worker_threads');
const { open } = require('..');

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

function pair(local, extensions) {
    const { port1, port2 } = new MessageChannel();
    const server = open(port1, local, { extensions });
    const client = open(port2, undefined, { extensions });
    return { remote: client.remote, close: () => (client.close(), server.close()) };
}

// The answer to the call is sent when the test resolves `answer`.
function heldAnswer() {
    const answer = Q.defer();
    return { answer, local: { get: () => answer.promise } };
}

for (const extensions of [true, false]) {
    const name = extensions ? 'rs peer' : 'no extensions';

    test(`${name}: then callbacks run after the turn of the then and of the answer, in the order of the thens`, async (t) => {
        const { answer, local } = heldAnswer();
        const { remote, close } = pair(local, extensions);
        const seen = [];
        const promise = remote.invoke('get');
        const done = [
            promise.then((value) => seen.push(['first', value])),
            promise.then((value) => seen.push(['second', value])),
        ];
        seen.push('after then');
        // Wait until the call is being served, then answer.
        await Q.delay(20);
        answer.resolve(7);
        await Promise.all(done);
        t.deepEqual(seen, ['after then', ['first', 7], ['second', 7]]);
        // Once settled: still never in the turn of the then.
        let late = false;
        const settled = promise.then(() => (late = true));
        t.false(late);
        await settled;
        t.true(late);
        close();
    });

    test(`${name}: a message sent to the promise before a then is applied before that then's callback`, async (t) => {
        const { answer, local } = heldAnswer();
        const { remote, close } = pair(local, extensions);
        const promise = remote.invoke('get');
        // `get` before `then`: it reads the value before the callback changes it.
        const read = promise.get('x');
        const changed = promise.then((value) => {
            value.x = 'changed';
            return value.x;
        });
        await Q.delay(20);
        answer.resolve({ x: 'original' });
        t.is(await changed, 'changed');
        t.is(await read, 'original');
        close();
    });
}

test('a rejected answer handled by an await raises no unhandledRejection', async (t) => {
    const unhandled = [];
    const onUnhandled = (reason) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const { remote, close } = pair({ fail: () => { throw new Error('refused'); } }, true);
    for (let i = 0; i < 3; i++) await t.throwsAsync(remote.invoke('fail'), { message: 'refused' });
    await Q.delay(50);
    process.off('unhandledRejection', onUnhandled);
    t.deepEqual(unhandled, []);
    close();
});

test('with pipelining, a call dropped unawaited is cancelled once collected, one awaited at once or later is not', async (t) => {
    const { port1, port2 } = new MessageChannel();
    const server = open(port1, { park: () => Q.defer().promise, add: (a, b) => a + b });
    const client = open(port2, undefined);
    t.is(await client.remote.invoke('add', 1, 1), 2); // the hellos are in
    t.true(client.peerHas('pipeline'));
    const kept = client.remote.invoke('park'); // held and awaited later: never cancelled
    (() => {
        client.remote.invoke('park'); // dropped at once
    })();
    await Q.delay(10);
    const settled = kept.then(() => 'answered', () => 'rejected');
    for (let i = 0; i < 100 && client.stats().questions > 1; i++) {
        gc();
        await Q.delay(10);
    }
    t.is(client.stats().questions, 1, 'the dropped call is cancelled, the held one is not');
    t.is(await client.remote.invoke('add', 2, 2), 4);
    t.is(client.stats().questions, 1);
    client.close();
    server.close();
    t.is(await settled, 'rejected'); // by the close
});
