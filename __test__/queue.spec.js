'use strict';

const test = require('ava');
const Q = require('q');
const Queue = require('../lib/queue');

test('gets after puts come out in order', async (t) => {
    const q = Queue();
    q.put(1);
    q.put(2);
    q.put(3);
    t.deepEqual(await Q.all([q.get(), q.get(), q.get()]), [1, 2, 3]);
});

test('gets before puts are answered in order', async (t) => {
    const q = Queue();
    const gets = [q.get(), q.get(), q.get()];
    t.true(gets.every(Q.isPromise));
    q.put('a');
    q.put('b');
    q.put('c');
    t.deepEqual(await Q.all(gets), ['a', 'b', 'c']);
});

test('interleaved gets and puts, many values', async (t) => {
    const q = Queue();
    const got = [];
    for (let i = 0; i < 1000; i++) {
        if (i % 3 === 0) got.push(q.get());
        q.put(i);
        if (i % 3 !== 0) got.push(q.get());
    }
    const values = await Q.all(got);
    t.deepEqual(values, Array.from({ length: 1000 }, (_, i) => i));
});

test('close rejects pending and future gets with the default reason', async (t) => {
    const q = Queue();
    const pending = q.get();
    const closed = q.close();
    t.true(Q.isPromise(closed));
    t.is(closed, q.closed);
    const reason = await t.throwsAsync(() => pending);
    t.is(reason.message, "Can't get value from closed queue");
    await t.throwsAsync(() => q.get(), { is: reason });
    t.is(await q.closed, reason);
});

test('close with a reason; values put before close are still read first', async (t) => {
    const q = Queue();
    q.put('early');
    const why = new Error('gone');
    q.close(why);
    q.close(new Error('second close is ignored'));
    q.put('late');
    t.is(await q.get(), 'early');
    await t.throwsAsync(() => q.get(), { is: why });
    t.is(await q.closed, why);
});

test('closed stays pending while open', async (t) => {
    const q = Queue();
    t.true(q.closed.isPending());
    q.put(1);
    await q.get();
    t.true(q.closed.isPending());
});
