'use strict';

// End to end through Connection over Node's IPC channel: a child from
// child_process.fork() on our side, `process` on the child's side
// (__test__/fixtures/peer.js "ipc"). The child killed or exiting in the
// middle of a call, and a child whose only connection closes exiting by
// itself.

const test = require('ava');
const { open } = require('../lib/connection');
const {
    startPeer, rejectsWithCause, checkCalls, checkLocalClose, exitOf
} = require('./helpers/e2e');

const forkPeer = (t) => startPeer(t, ['ipc']);

test('fork: round trip, callback, close() lets the child exit by itself', async (t) => {
    const child = forkPeer(t);
    const handle = open(child, {});
    await checkCalls(t, handle);
    await checkLocalClose(t, handle);
    // close() disconnected the channel; the child's connection saw it and
    // removed its listeners, so nothing keeps the child running.
    t.deepEqual(await exitOf(child), {
        code: 0, signal: null, said: 'peer closed: IPC channel to the parent closed'
    });
    t.is(child.listenerCount('message'), 0);
    t.is(child.listenerCount('exit'), 0);
    t.is(child.listenerCount('disconnect'), 0);
});

test('fork: the child killed in the middle of a call', async (t) => {
    const child = forkPeer(t);
    const handle = open(child, {});
    t.is(await handle.remote.invoke('add', 1, 2), 3);
    const pending = handle.remote.invoke('hang');
    child.kill('SIGKILL');
    await rejectsWithCause(t, pending, 'child process killed by SIGKILL', 2000, exitOf(child));
    t.is((await handle.closed).message, 'child process killed by SIGKILL');
    await rejectsWithCause(t, handle.remote.invoke('add', 1, 2), 'child process killed by SIGKILL', 100);
});

test('fork: the child exiting in the middle of a call', async (t) => {
    const child = forkPeer(t);
    const handle = open(child, {});
    const exit = new Promise((resolve) => child.once('exit', resolve));
    await rejectsWithCause(t, handle.remote.invoke('exit', 1), 'child process exited with code 1',
        2000, exit);
});

test('fork: the child closing its connection disconnects and exits', async (t) => {
    const child = forkPeer(t);
    const handle = open(child, {});
    const pending = handle.remote.invoke('hang');
    const disconnected = new Promise((resolve) => child.once('disconnect', resolve));
    t.is(await handle.remote.invoke('close', 'child leaves'), 'closing');
    // The exit follows the disconnect at once, unless the machine is slow.
    await rejectsWithCause(t, pending, /^child process (exited with code 0|disconnected)$/,
        2000, disconnected);
    t.deepEqual(await exitOf(child), { code: 0, signal: null, said: 'peer closed: child leaves' });
});

test('fork: a child that disconnects and lives on is reported as disconnected', async (t) => {
    const child = forkPeer(t);
    const handle = open(child, {});
    await handle.remote.invoke('linger', 2000);
    const pending = handle.remote.invoke('hang');
    const disconnected = new Promise((resolve) => child.once('disconnect', resolve));
    t.is(await handle.remote.invoke('close', 'child leaves'), 'closing');
    // No exit follows within 50 ms of the disconnect: that is the cause.
    await rejectsWithCause(t, pending, 'child process disconnected', 2000, disconnected);
    t.deepEqual(await exitOf(child), { code: 0, signal: null, said: 'peer closed: child leaves' });
});

test('fork: a child that is already gone is reported at once', async (t) => {
    const child = forkPeer(t);
    child.kill('SIGKILL');
    await exitOf(child);
    const handle = open(child, {});
    await rejectsWithCause(t, handle.remote.invoke('add', 1, 2), 'child process killed by SIGKILL');
});
