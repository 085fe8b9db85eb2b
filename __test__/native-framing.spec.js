'use strict';

// WsConnection.sendText frames one text itself (src/transport/direct.rs
// `send_text_with`): the three length forms (7-bit, 16-bit, 64-bit), the
// client's masking and multi-byte UTF-8, checked against the `ws` module
// at each end.

const test = require('ava');
const { WebSocket, WebSocketServer } = require('ws');
const { wsConnect, wsListen } = require('../binding.js');

// Lengths in UTF-8 bytes around each boundary of the header's length forms.
const TEXTS = [
    '',
    'a',
    'x'.repeat(125),
    'x'.repeat(126),
    'é'.repeat(63), // 126 bytes in 63 characters
    'x'.repeat(65535),
    'x'.repeat(65536),
    '€'.repeat(40000) + '🙂 end', // 120,009 bytes, 3- and 4-byte characters
];

test('a native client sends each length form, masked, to a ws server', async (t) => {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    t.teardown(() => server.close());
    await new Promise((resolve) => server.once('listening', resolve));
    const received = [];
    const all = new Promise((resolve) => {
        server.on('connection', (ws) => ws.on('message', (data, binary) => {
            t.false(binary);
            received.push(data.toString());
            if (received.length === TEXTS.length) resolve();
        }));
    });
    const socket = await wsConnect(`ws://127.0.0.1:${server.address().port}/`, {});
    socket.start(() => {});
    t.true(socket.writesDirectly);
    for (const text of TEXTS) socket.sendText(text);
    await all;
    t.deepEqual(received, TEXTS);
    socket.close();
});

test('a native server sends each length form, unmasked, to a ws client', async (t) => {
    let accepted;
    const connected = new Promise((resolve) => { accepted = resolve; });
    const server = await wsListen({}, (socket) => {
        socket.start(() => {});
        accepted(socket);
    });
    t.teardown(() => server.close(1001, ''));
    const ws = new WebSocket(`ws://127.0.0.1:${server.address().port}/`);
    t.teardown(() => ws.terminate());
    const received = [];
    const all = new Promise((resolve, reject) => {
        ws.on('error', reject);
        ws.on('message', (data) => {
            received.push(data.toString());
            if (received.length === TEXTS.length) resolve();
        });
    });
    await new Promise((resolve) => ws.once('open', resolve));
    const socket = await connected;
    for (const text of TEXTS) socket.sendText(text);
    await all;
    t.deepEqual(received, TEXTS);
});
