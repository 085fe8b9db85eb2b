'use strict';

// A lost hello (docs/PROTOCOL-EXTENSIONS.md, "A lost hello"): a side that
// missed the peer's first hello still agrees, on the peer's reply, before
// any answer kept for it arrives, so every kept answer is released and
// sequential calls never pile up against maxPendingCalls (10,000).

const { once } = require('events');
const { MessageChannel } = require('worker_threads');
const test = require('ava');
const { WebSocket } = require('ws');
const { open } = require('../lib/connection');
const { wsServer } = require('./helpers/e2e');
const { envelopes, until } = require('./helpers/wire');

const service = { add: (a, b) => a + b };

/** `count` sequential calls of add(i, 1); true when every answer was right. */
async function sequentialAdds(remote, count) {
    for (let i = 0; i < count; i++) {
        if ((await remote.invoke('add', i, 1)) !== i + 1) return false;
    }
    return true;
}

/**
 * Checks both ends after the calls: the server kept nothing it was not
 * released from, refused no call, and neither side counted a hello ignored.
 */
async function checkReleased(t, client, server) {
    t.true(client.peerHas('pipeline'), 'the client agreed');
    t.true(server.peerHas('pipeline'), 'the server agreed');
    // The last answer's release goes within 200 ms (lazy releases).
    await until(() => server.stats().answers === 0);
    t.is(server.stats().callsRefused, 0);
    t.true(server.stats().releasesIn > 0);
    t.is(client.stats().ignored, 0);
    t.is(server.stats().ignored, 0);
}

test('ws: a client opened after its socket\'s open event missed the server\'s hello; 12,000 sequential calls all answered and released', async (t) => {
    t.timeout(120000); // ~3 s on an idle machine
    const { server, url } = await wsServer(t);
    let far = null;
    // The server side is served in the turn its socket is accepted, so its
    // hello goes out right behind the handshake.
    server.on('connection', (socket) => {
        far = open(socket, service);
    });
    const socket = new WebSocket(url);
    t.teardown(() => socket.terminate());
    // `ws` hands a message to whoever listens when it arrives: here this
    // recorder, never the connection opened below, as when nobody listens.
    // (The hello often arrives with the handshake's response, and is then
    // emitted before the continuation of `await once(socket, 'open')` runs.)
    const missed = [];
    const record = (data) => missed.push(String(data));
    socket.on('message', record);
    await once(socket, 'open');
    await until(() => missed.length > 0); // the hello has come and gone
    socket.removeListener('message', record);
    t.deepEqual(missed.map((text) => JSON.parse(text).type), ['hello']);
    t.is(JSON.parse(missed[0]).heard, undefined, 'the first hello, not a reply');

    const client = open(socket, {});
    // Also when a check fails: nothing may keep the process up.
    t.teardown(() => Promise.all([client.close(), far.close()]));
    t.true(await sequentialAdds(client.remote, 12000));
    await checkReleased(t, client, far);
});

/** The hellos in a log of posted texts, parsed. */
const hellos = (list) => envelopes(list).filter((envelope) => envelope.type === 'hello');

/**
 * A MessageChannel whose `dropping` end never delivers its first message
 * (its hello); `sent` logs what each end posted, the dropped one included.
 */
function droppingChannel(dropping) {
    const { port1, port2 } = new MessageChannel();
    const sent = { port1: [], port2: [] };
    for (const [name, port] of [['port1', port1], ['port2', port2]]) {
        const post = port.postMessage.bind(port);
        port.postMessage = (text) => {
            sent[name].push(text);
            if (name !== dropping || sent[name].length > 1) post(text);
        };
    }
    return { port1, port2, sent };
}

test('MessageChannel: the answering side\'s hello dropped; the client agrees on the reply and every answer is released', async (t) => {
    const { port1, port2, sent } = droppingChannel('port2');
    const server = open(port2, service);
    const client = open(port1, {});
    t.teardown(() => Promise.all([client.close(), server.close()]));
    t.true(await sequentialAdds(client.remote, 2000));
    await checkReleased(t, client, server);
    // The server replied once (its first hello lost); the client, whose
    // first hello from the server said heard, did not reply.
    t.deepEqual(hellos(sent.port2).map((hello) => hello.heard), [undefined, true]);
    t.deepEqual(hellos(sent.port1).map((hello) => hello.heard), [undefined]);
});

test('MessageChannel: the asking side\'s hello dropped; the server agrees on the reply and every answer is released', async (t) => {
    const { port1, port2, sent } = droppingChannel('port1');
    const server = open(port2, service);
    const client = open(port1, {});
    t.teardown(() => Promise.all([client.close(), server.close()]));
    // Wait for the server's hello and the client's reply before calling: a
    // call sent before the reply arrives is answered but not kept, and
    // anything pipelined to it would be lost (the residual case).
    await until(() => server.peerHas('pipeline'));
    t.true(await sequentialAdds(client.remote, 2000));
    await checkReleased(t, client, server);
    t.deepEqual(hellos(sent.port1).map((hello) => hello.heard), [undefined, true]);
    t.deepEqual(hellos(sent.port2).map((hello) => hello.heard), [undefined]);
});
