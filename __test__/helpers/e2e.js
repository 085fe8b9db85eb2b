'use strict';

// Shared by the end-to-end port specs (ports-*.spec.js) and the peer
// fixture: the object each peer serves, and checks on how a connection
// closes.

const path = require('path');
const { fork, spawn } = require('child_process');
const { Worker, MessageChannel } = require('worker_threads');
const Q = require('q');
const { WebSocketServer } = require('ws');
const Queue = require('../../lib/queue');

const CLOSED = /^Connection closed because: /;

/**
 * The root object a peer serves. `handle()` returns the peer's own
 * connection handle (null for 0.6.1, which has none).
 *   add(a, b)         a round trip
 *   callBack(fn, x)   calls the caller's function fn(x) and returns its answer
 *   hang()            never answers: a call in flight while the peer dies
 *   exit(code)        ends the peer's process or thread with `code`
 *   linger(ms)        keeps the peer's process or thread alive `ms` longer
 *   close(reason)     closes the peer's connection from its side
 */
function peerRoot(handle) {
    return {
        add: (a, b) => a + b,
        callBack: (fn, x) => Q(fn(x)).then((y) => 'called back with ' + y),
        hang: () => Q.defer().promise,
        exit: (code) => process.exit(code),
        linger: (ms) => { setTimeout(() => {}, ms); },
        close: (reason) => {
            // Answered first, then closed, so the caller sees the answer.
            setTimeout(() => handle().close(new Error(reason)), 10);
            return 'closing';
        }
    };
}

/**
 * Asserts that `promise` rejects with "Connection closed because: <cause>"
 * within `ms` (generous: the contract is 100 ms) of the port closing, its
 * `cause` an Error whose message matches `cause`. The clock starts when
 * `after` resolves (the test's own view of the close, e.g. a child's
 * 'exit'), else at once. Resolves with the rejection.
 */
async function rejectsWithCause(t, promise, cause, ms = 2000, after = null) {
    let timer;
    const late = Promise.resolve(after).then(() => new Promise((resolve) => {
        timer = setTimeout(() => resolve('no rejection within ' + ms + ' ms'), ms);
    }));
    const outcome = await Promise.race([
        Promise.resolve(promise).then((value) => 'fulfilled with ' + value, (error) => error),
        late
    ]);
    clearTimeout(timer);
    if (!(outcome instanceof Error)) {
        t.fail(String(outcome));
        return null;
    }
    t.regex(outcome.message, CLOSED);
    t.true(outcome.cause instanceof Error, 'cause is an Error');
    if (typeof cause === 'string') {
        t.is(outcome.cause.message, cause);
    } else {
        t.regex(outcome.cause.message, cause);
    }
    t.is(outcome.message, 'Connection closed because: ' + outcome.cause.message);
    return outcome;
}

/**
 * The common round of checks on a live connection `handle` to a peerRoot:
 * a round trip and a function passed and called back.
 */
async function checkCalls(t, handle) {
    t.is(await handle.remote.invoke('add', 2, 3), 5);
    const answer = await handle.remote.invoke('callBack', (x) => x * 10, 4);
    t.is(answer, 'called back with 40');
}

/**
 * Checks a connection closed by `close(reason)`: the pending call and the
 * `closed` promise settle with the cause, and a later call rejects at once.
 */
async function checkLocalClose(t, handle) {
    const pending = handle.remote.invoke('hang');
    const closed = handle.close(new Error('done here'));
    await rejectsWithCause(t, pending, 'done here');
    t.is((await closed).message, 'done here');
    t.is((await handle.closed).message, 'done here');
    await rejectsWithCause(t, handle.remote.invoke('add', 1, 1), 'done here', 100);
}

const PEER = path.join(__dirname, '..', 'fixtures', 'peer.js');

/**
 * Starts __test__/fixtures/peer.js in a child with `args` (and node
 * options `execArgv`): forked with an IPC channel, or (ipc: false) spawned
 * with piped stdin/stdout. Its stderr is kept for exitOf(). Killed after
 * the test.
 */
function startPeer(t, args, { ipc = true, execArgv = [] } = {}) {
    const child = ipc ?
        fork(PEER, args, { stdio: ['ignore', 'inherit', 'pipe', 'ipc'], execArgv }) :
        spawn(process.execPath, execArgv.concat(PEER, args), { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stderrText = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text) => { child.stderrText += text; });
    // Not the child's 'close' event: Node does not emit it after the parent
    // called disconnect() (seen on Node 20).
    child.stderrClosed = new Promise((resolve) => child.stderr.once('close', resolve));
    t.teardown(() => child.kill('SIGKILL'));
    return child;
}

/**
 * A peer worker thread serving on port2 of a fresh MessageChannel, with
 * `impl` "ours" or "0.6.1": {worker, port} where port is port1, ours to use.
 * Terminated after the test.
 */
function channelPeer(t, impl = 'ours') {
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(PEER, { workerData: { port: port2, impl }, transferList: [port2] });
    t.teardown(() => worker.terminate());
    return { worker, port: port1 };
}

/**
 * Resolves with {code, signal, said} once a child from startPeer() exits
 * by itself and its stderr closes, `said` being what its stderr said (the
 * peer's "peer closed: <cause>"); after `ms` kills it and resolves with
 * {timedOut: true, said}.
 */
async function exitOf(child, ms = 10000) {
    let timer;
    const exited = child.exitCode !== null || child.signalCode !== null ?
        Promise.resolve() :
        new Promise((resolve) => child.once('exit', resolve));
    const timedOut = await Promise.race([
        Promise.all([exited, child.stderrClosed]).then(() => false),
        new Promise((resolve) => { timer = setTimeout(resolve, ms, true); })
    ]);
    clearTimeout(timer);
    const said = child.stderrText.trim();
    if (timedOut) {
        child.kill('SIGKILL');
        return { timedOut, said };
    }
    return { code: child.exitCode, signal: child.signalCode, said };
}

/** Two Q channels joined back to back: what one puts, the other gets. */
function channelPair() {
    const ab = Queue();
    const ba = Queue();
    const side = (inbox, outbox) => ({
        get: inbox.get,
        put: outbox.put,
        close(reason) { inbox.close(reason); outbox.close(reason); },
        closed: inbox.closed
    });
    return [side(ba, ab), side(ab, ba)];
}

/**
 * A `ws` server on 127.0.0.1 (port 0), closed after the test with its
 * sockets: {server, port, url, accepted()}, accepted() resolving with the
 * next server-side socket.
 */
async function wsServer(t) {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => server.once('listening', resolve));
    t.teardown(() => {
        server.clients.forEach((socket) => socket.terminate());
        return new Promise((resolve) => server.close(resolve));
    });
    const { port } = server.address();
    return {
        server,
        port,
        url: 'ws://127.0.0.1:' + port,
        accepted: () => new Promise((resolve) => server.once('connection', resolve))
    };
}

/** A Chrome extension event (port.onMessage, port.onDisconnect) with fire(). */
function chromeEvent() {
    const listeners = new Set();
    return {
        listeners,
        addListener: (f) => listeners.add(f),
        removeListener: (f) => listeners.delete(f),
        fire: (...args) => listeners.forEach((f) => f(...args))
    };
}

module.exports = { channelPeer, chromeEvent, startPeer, wsServer, channelPair, peerRoot, rejectsWithCause, checkCalls, checkLocalClose, exitOf };
