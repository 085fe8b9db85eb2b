'use strict';

// The bridge between JS and Rust is crossed per batch, not per message: what
// one JS tick sends goes to Rust in one call (lib/batch.js gathers the
// tick's envelopes; over ws:// the port writes each text at once), and
// frames that arrive while the JS thread is busy come back in one callback.
// Its own file: it spies on NativePort and the binding's WsConnection for
// the whole process.

const test = require('ava');
const { WebSocket } = require('ws');
const { WsConnection } = require('../binding.js');
const Connection = require('..');
const { NativePort, connectPort } = require('../lib/native');

/** Blocks the JS thread, as a busy application would. */
function busy(ms) {
    const until = Date.now() + ms;
    while (Date.now() < until) {
        // spin
    }
}

test.serial('frames that arrive while JS is busy are delivered in one callback, in order', async (t) => {
    const received = [];
    const original = NativePort.prototype.receive;
    // A read on the JS thread brings a text or an array of texts; the
    // threadsafe function, a batch object.
    NativePort.prototype.receive = function (delivery) {
        if (typeof delivery === 'string') received.push(1);
        else if (Array.isArray(delivery)) received.push(delivery.length);
        else if (delivery.messages.length) received.push(delivery.messages.length);
        return original.call(this, delivery);
    };
    t.teardown(() => {
        NativePort.prototype.receive = original;
    });
    const seen = [];
    const server = await Connection.listen({ local: {}, onmessagelost: (message) => seen.push(message.n) });
    t.teardown(() => server.close());
    const connected = new Promise((resolve) => server.once('connection', resolve));
    const ws = new WebSocket(`ws://127.0.0.1:${server.address().port}/`);
    t.teardown(() => ws.terminate());
    await new Promise((resolve) => ws.once('open', resolve));
    await connected;
    // 100 frames, each a message to an unknown id (so each reaches onmessagelost),
    // written while the JS thread then stays busy: the tokio side reads them all.
    for (let n = 0; n < 100; n++) ws.send(JSON.stringify({ type: 'resolve', to: 'NOBODY', resolution: n, n }));
    busy(500);
    while (seen.length < 100) await new Promise((resolve) => setTimeout(resolve, 5));
    t.deepEqual(seen, Array.from({ length: 100 }, (_, n) => n));
    t.is(received.reduce((a, b) => a + b, 0), 100);
    t.log(`100 frames in ${received.length} callback(s): ${received.join(', ')}`);
    // Usually one; a starved machine may split the 100 across a few.
    t.true(received.length <= 3, `expected the frames batched, got ${received.join(', ')}`);
});

test.serial('what is sent in one JS tick crosses to Rust in two calls: the first text at once, the rest batched', async (t) => {
    const calls = [];
    const original = WsConnection.prototype.send;
    const originalText = WsConnection.prototype.sendText;
    WsConnection.prototype.send = function (texts) {
        calls.push({ socket: this, texts: texts.length });
        return original.call(this, texts);
    };
    WsConnection.prototype.sendText = function (text) {
        calls.push({ socket: this, texts: 1 });
        return originalText.call(this, text);
    };
    t.teardown(() => {
        WsConnection.prototype.send = original;
        WsConnection.prototype.sendText = originalText;
    });
    const server = await Connection.listen({ local: { add: (a, b) => a + b } });
    t.teardown(() => server.close());
    const port = await connectPort(`ws://127.0.0.1:${server.address().port}/`);
    const client = Connection.open(port);
    await client.remote.invoke('add', 0, 0);
    calls.length = 0;
    const sums = [];
    for (let i = 0; i < 100; i++) sums.push(client.remote.invoke('add', i, i));
    t.deepEqual(await Promise.all(sums), Array.from({ length: 100 }, (_, i) => 2 * i));
    // The client sent nothing else meanwhile: the first call went at once
    // (lib/batch.js), the other 99 in one text (the peers negotiated
    // batched envelopes), each text in one crossing.
    const fromClient = calls.filter((call) => call.socket === port.socket);
    t.deepEqual(fromClient.map((call) => call.texts), [1, 1], `the client crossed ${fromClient.length} times`);
    await client.close();
});
