'use strict';

// End to end through Connection over the browser-shaped ports that Node
// does not have itself, each built as a thin facade over a real transport
// (a MessageChannel, a worker, a `ws` socket): a W3C EventTarget port with
// start(), a window-like port checked by origin, a Chrome extension port,
// the {postMessage, onmessage, close} duck of 0.6.1's socket.io example;
// and a Q channel pair.

const test = require('ava');
const { MessageChannel } = require('worker_threads');
const { WebSocket } = require('ws');
const { open } = require('../lib/connection');
const {
    channelPeer, chromeEvent, wsServer, channelPair,
    peerRoot, rejectsWithCause, checkCalls, checkLocalClose
} = require('./helpers/e2e');

// The W3C MessagePort interface only (no `on`), over a Node MessagePort.
function w3cFacade(port) {
    return {
        postMessage: (data) => port.postMessage(data),
        addEventListener: port.addEventListener.bind(port),
        removeEventListener: port.removeEventListener.bind(port),
        start: () => port.start(),
        close: () => port.close()
    };
}

test('W3C port: round trip, callback, close(), then the peer thread terminated', async (t) => {
    for (const ending of ['close', 'terminate']) {
        const { worker, port } = channelPeer(t);
        const handle = open(w3cFacade(port), {});
        await checkCalls(t, handle);
        if (ending === 'close') {
            await checkLocalClose(t, handle);
        } else {
            const pending = handle.remote.invoke('hang');
            const exit = new Promise((resolve) => worker.once('exit', resolve));
            worker.terminate();
            await rejectsWithCause(t, pending, 'MessagePort closed', 2000, exit);
        }
    }
});

// A window as seen from another origin: postMessage(data, targetOrigin);
// a message event carries the sender's origin. Delivered over a real port.
class FakeWindow extends EventTarget {
    constructor(port, origin) {
        super();
        this.port = port;
        this.origin = origin;
        port.on('message', (message) => {
            if (message.targetOrigin !== '*' && message.targetOrigin !== origin) return;
            this.dispatchEvent(new MessageEvent('message', message));
        });
        port.on('close', () => this.dispatchEvent(new Event('close')));
    }

    postMessage(data, targetOrigin) {
        this.port.postMessage({ data, origin: this.origin, targetOrigin });
    }
}

test('window-like port: origin sent and checked both ways, peer gone mid-call', async (t) => {
    const { port1, port2 } = new MessageChannel();
    t.teardown(() => port1.close());
    const a = new FakeWindow(port1, 'https://a.test');
    const b = new FakeWindow(port2, 'https://b.test');
    const far = open(b, peerRoot(() => far), { origin: 'https://a.test' });
    const errors = [];
    const handle = open(a, {}, { origin: 'https://b.test', onerror: (e) => errors.push(e) });
    await checkCalls(t, handle);

    // A third page posting into `a` with a matching target is dropped, and
    // reported, because its origin is not the one we talk to.
    const pending = handle.remote.invoke('hang');
    a.dispatchEvent(new MessageEvent('message', {
        data: '{"type":"resolve","to":"x","resolution":1}', origin: 'https://evil.test'
    }));
    t.is(errors.length, 1);
    t.is(errors[0].code, 'EORIGIN');
    t.regex(errors[0].message, /origin "https:\/\/evil\.test" is not "https:\/\/b\.test"/);
    t.is(handle.stats().errors, 1);

    port2.close();
    await rejectsWithCause(t, pending, 'MessagePort closed');
    t.is((await far.closed).message, 'MessagePort closed');
});

// A Chrome extension runtime.Port over a real MessageChannel.
function chromeFacade(port) {
    const chrome = {
        onMessage: chromeEvent(),
        onDisconnect: chromeEvent(),
        postMessage: (message) => port.postMessage(message),
        disconnect: () => port.close()
    };
    port.on('message', (message) => chrome.onMessage.fire(message));
    port.on('close', () => chrome.onDisconnect.fire());
    return chrome;
}

test('Chrome port: round trip, callback, disconnect mid-call', async (t) => {
    const { port1, port2 } = new MessageChannel();
    const near = chromeFacade(port1);
    const farPort = chromeFacade(port2);
    const far = open(farPort, peerRoot(() => far));
    const handle = open(near, {});
    await checkCalls(t, handle);
    const pending = handle.remote.invoke('hang');
    farPort.disconnect();
    await rejectsWithCause(t, pending, 'Port disconnected');
    t.is((await far.closed).message, 'Port disconnected'); // both ends see the close
    t.is(near.onMessage.listeners.size, 0);
    t.is(near.onDisconnect.listeners.size, 0);
});

// 0.6.1's socket.io example, with a close() that the user calls when the
// transport goes away; here the transport is a real `ws` socket.
function duckOver(socket) {
    const port = {
        postMessage: (message) => socket.send(message),
        onmessage: null,
        close: () => socket.close()
    };
    socket.on('message', (data) => port.onmessage({ data: String(data) }));
    socket.on('close', () => port.close());
    return port;
}

async function duckPair(t) {
    const server = await wsServer(t);
    const accepted = server.accepted();
    const client = new WebSocket(server.url);
    t.teardown(() => client.terminate());
    await new Promise((resolve) => client.once('open', resolve));
    const socket = await accepted;
    const far = open(socket, peerRoot(() => far));
    return { client, socket, far, port: duckOver(client) };
}

test('socket.io-style duck: round trip, callback, close()', async (t) => {
    const { port, far } = await duckPair(t);
    const ownClose = port.close;
    const handle = open(port, {});
    await checkCalls(t, handle);
    await checkLocalClose(t, handle);
    t.is(port.close, ownClose, 'its own close() is put back');
    t.is(port.onmessage, null);
    t.is((await far.closed).message, 'WebSocket closed: 1005');
});

test('socket.io-style duck: the transport dies mid-call and close() is called', async (t) => {
    const { port, socket } = await duckPair(t);
    const handle = open(port, {});
    t.is(await handle.remote.invoke('add', 1, 2), 3);
    const pending = handle.remote.invoke('hang');
    socket.terminate();
    await rejectsWithCause(t, pending, 'Port closed: its close() was called');
});

test('Q channel pair: round trip, callback, close(), the far side closing', async (t) => {
    for (const ending of ['close', 'far']) {
        const [near, farChannel] = channelPair();
        const far = open(farChannel, peerRoot(() => far));
        const handle = open(near, {});
        await checkCalls(t, handle);
        if (ending === 'close') {
            await checkLocalClose(t, handle);
            t.is((await far.closed).message, 'done here');
        } else {
            const pending = handle.remote.invoke('hang');
            t.is(await handle.remote.invoke('close', 'far side leaves'), 'closing');
            await rejectsWithCause(t, pending, 'far side leaves');
        }
    }
});
