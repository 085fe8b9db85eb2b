'use strict';

// Faults: a panic inside the Rust engine, user callbacks that throw, local
// methods that throw or reject, and the `stacks` option. None may end the
// process; each becomes a rejection or a closed connection with the cause.

const test = require('ava');
const Q = require('q');
const { MessageChannel } = require('worker_threads');
const binding = require('../binding.js');
const { Engine } = binding;
const { open } = require('..');
const { rawPeer, closeAll, rejectionMessage } = require('./helpers/raw-peer');

test.after.always(closeAll);

test('a Rust panic is caught at the napi boundary and becomes a JS exception', (t) => {
    const engine = new Engine({});
    engine.debugArmPanic();
    t.throws(() => engine.receive('{}'), { message: /debugArmPanic: a panic inside Engine.receive/ });
    // The engine still answers afterwards.
    t.is(engine.receive('{"type":"hello?"}').kind, 4);
});

test.serial('a panic while receiving closes the connection with the panic as the cause', async (t) => {
    const { port1, port2 } = new MessageChannel();
    const server = open(port1, { slow: () => Q.defer().promise, ok: () => 1 });
    const client = open(port2, { never: () => Q.defer().promise });
    t.is(await client.remote.invoke('ok'), 1);
    // The server asks the client something, so it has a pending question to reject.
    const pending = server.remote.invoke('never');
    // The client has received 'never' once this round trip is done, so the
    // next message received anywhere is the server's.
    t.is(await client.remote.invoke('ok'), 1);
    // Connections receive through engineReceiveInto (the hot path of receive).
    const original = binding.engineReceiveInto;
    binding.engineReceiveInto = function (handle, text, meta) {
        binding.engineReceiveInto = original;
        binding.engineDebugArmPanic(handle);
        return original(handle, text, meta);
    };
    const lost = client.remote.invoke('ok');
    const cause = await server.closed;
    t.regex(cause.message, /debugArmPanic: a panic inside Engine.receive/);
    const error = await t.throwsAsync(pending);
    t.is(error.message, `Connection closed because: ${cause.message}`);
    t.is(error.cause, cause);
    // The client sees its port close, so its call rejects rather than hangs.
    await t.throwsAsync(lost, { message: /Connection closed because/ });
    client.close();
});

test('a method that throws or rejects answers with a rejection, and serving goes on', async (t) => {
    const peer = rawPeer({
        throws() {
            throw new RangeError('sync failure');
        },
        rejects: () => Promise.reject(new Error('async failure')),
        rejectsWithNothing: () => Q.reject(undefined),
        ok: () => 'fine'
    });
    t.is(rejectionMessage(await peer.call('', 'post', ['throws', []])), 'sync failure');
    t.is(rejectionMessage(await peer.call('', 'post', ['rejects', []])), 'async failure');
    t.deepEqual(await peer.call('', 'post', ['rejectsWithNothing', []]), { '!': { '%': 'undefined' } });
    t.is(await peer.call('', 'post', ['ok', []]), 'fine');
    peer.close();
});

test('stacks: false keeps stack traces off the wire', async (t) => {
    const root = {
        fail() {
            throw new TypeError('nope');
        }
    };
    const withStacks = rawPeer(root);
    const full = await withStacks.call('', 'post', ['fail', []]);
    t.regex(full['!'].stack, /\n\s+at /, 'stack frames cross by default');
    withStacks.close();
    const without = rawPeer(root, { stacks: false });
    const bare = await without.call('', 'post', ['fail', []]);
    t.is(bare['!'].message, 'nope');
    t.is(bare['!'].stack, 'TypeError: nope');
    // An Error inside a value is stripped as well.
    without.handle.close();
    const values = rawPeer({ error: () => ({ inner: new Error('deep') }) }, { stacks: false });
    t.is((await values.call('', 'post', ['error', []])).inner.stack, 'Error: deep');
    values.close();
});

test('an onerror that throws does not end the process; it becomes a warning', async (t) => {
    const warnings = [];
    const onWarning = (warning) => warnings.push(warning);
    process.on('warning', onWarning);
    const peer = rawPeer({ ok: () => 1 }, {
        onerror() {
            throw new Error('onerror blew up');
        }
    });
    peer.post('not json');
    t.is(await peer.call('', 'post', ['ok', []]), 1);
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);
    t.is(warnings.length, 1);
    t.is(warnings[0].message, 'the onerror callback threw: onerror blew up');
    peer.close();
});

test('an onmessagelost that throws is reported to onerror as ECALLBACK', async (t) => {
    const peer = rawPeer({ ok: () => 1 }, {
        onmessagelost() {
            throw new Error('lost handler blew up');
        }
    });
    peer.post(JSON.stringify({ type: 'send', to: 'NOPE', from: 'X', op: 'get', args: ['a'] }));
    t.is(await peer.call('', 'post', ['ok', []]), 1);
    t.deepEqual(peer.errors.map((e) => e.code), ['ECALLBACK', 'ELOST']);
    t.is(peer.errors[0].message, 'the onmessagelost callback threw: lost handler blew up');
    t.is(peer.errors[0].cause.message, 'lost handler blew up');
    peer.close();
});

test('a callback that throws a non-Error still reaches onerror', async (t) => {
    const peer = rawPeer({ ok: () => 1 }, {
        onmessagelost() {
            throw 'a string'; // eslint-disable-line no-throw-literal
        }
    });
    peer.post(JSON.stringify({ type: 'resolve', to: 'NOPE', resolution: 1 }));
    t.is(await peer.call('', 'post', ['ok', []]), 1);
    t.is(peer.errors[0].code, 'ECALLBACK');
    t.is(peer.errors[0].message, 'the onmessagelost callback threw: a string');
    t.is(peer.errors[0].cause, 'a string');
    peer.close();
});
