'use strict';

// The native WebSocket server and client (lib/native.js) on 127.0.0.1: the
// server's API, closes from either side and by reset, limits, keepalive,
// binary frames, and a process that exits by itself. The protocol itself is
// covered by native-scenarios.spec.js.

const test = require('ava');
const fs = require('fs');
const https = require('https');
const path = require('path');
const { execFile } = require('child_process');
const { WebSocket, WebSocketServer } = require('ws');
const Q = require('q');
const Connection = require('..');
const { rejection } = require('./helpers/scenarios');

const service = {
    add: (a, b) => a + b,
    never: () => Q.defer().promise,
    fail: (message) => {
        throw new Error(message);
    },
};

/** A native server that closes itself after the test. */
async function serve(t, options) {
    const server = await Connection.listen(Object.assign({ path: '/rpc', local: service }, options));
    t.teardown(() => server.close());
    const url = `ws://127.0.0.1:${server.address().port}/rpc`;
    return { server, url };
}

/** The next "connection" event's [handle, info]. */
const nextConnection = (server) => new Promise((resolve) => server.once('connection', (...args) => resolve(args)));

/** A `ws` client, open, closed (terminated) after the test. */
async function wsClient(t, url, options) {
    const ws = new WebSocket(url, options);
    t.teardown(() => ws.terminate());
    await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
    });
    return ws;
}

const wsClosed = (ws) => new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));

test('listen: address, a "connection" event with the peer info, a local object per connection', async (t) => {
    const made = [];
    const { server, url } = await serve(t, {
        local: (info) => {
            made.push(info);
            return { who: () => info.url, count: () => made.length };
        },
    });
    t.deepEqual(Object.keys(server.address()).sort(), ['host', 'port']);
    t.is(server.address().host, '127.0.0.1');
    const connected = nextConnection(server);
    const a = await Connection.connect(url + '?name=a', null, { headers: { 'x-test': 'yes' } });
    const [handle, info] = await connected;
    t.is(info.url, '/rpc?name=a');
    t.is(info.headers['x-test'], 'yes');
    t.regex(info.remoteAddress, /^127\.0\.0\.1:\d+$/);
    t.is(typeof handle.remote.invoke, 'function');
    t.is(a.info.url, url + '?name=a');
    t.is(a.info.headers.upgrade.toLowerCase(), 'websocket');
    const b = await Connection.connect(url + '?name=b');
    t.is(await a.remote.invoke('who'), '/rpc?name=a');
    t.is(await b.remote.invoke('who'), '/rpc?name=b');
    t.is(await b.remote.invoke('count'), 2);
    t.deepEqual(server.stats(), { connections: 2, handles: 2 });
    await Promise.all([a.close(), b.close()]);
});

test('the server calls back into the client: references go both ways', async (t) => {
    const { server, url } = await serve(t);
    const connected = nextConnection(server);
    const client = await Connection.connect(url, { name: 'client', twice: (f) => Q(f(1)).then((x) => f(x)) });
    const [handle] = await connected;
    t.is(await handle.remote.get('name'), 'client');
    t.is(await handle.remote.invoke('twice', (x) => x * 10), 100);
    await client.close();
});

test('a wrong path is refused: connect rejects with the status', async (t) => {
    const { url } = await serve(t);
    const error = await t.throwsAsync(Connection.connect(url.replace('/rpc', '/nope')));
    t.regex(error.message, /could not connect to ws:\/\/127\.0\.0\.1:\d+\/nope: .*404/);
});

test('connect to a closed port rejects; a bad URL rejects', async (t) => {
    const { server, url } = await serve(t);
    await server.close();
    await t.throwsAsync(Connection.connect(url), { message: /could not connect to/ });
    await t.throwsAsync(Connection.connect('http://127.0.0.1:1/'), { message: /URL|scheme/ });
});

test('listening on a port already in use rejects with the reason', async (t) => {
    const { server } = await serve(t);
    const error = await t.throwsAsync(Connection.listen({ port: server.address().port, local: service }));
    t.regex(error.message, /^could not listen on 127\.0\.0\.1:\d+: .*in use/i);
});

test('client close: the server side sees the close frame and rejects its pending calls', async (t) => {
    const { server, url } = await serve(t);
    const connected = nextConnection(server);
    const client = await Connection.connect(url, service);
    const [handle] = await connected;
    const pending = handle.remote.invoke('never');
    const started = Date.now();
    await client.close(new Error('client leaves'));
    const error = await rejection(pending);
    t.log(`server side rejected ${Date.now() - started} ms after the close`);
    t.is(error.message, 'Connection closed because: WebSocket closed by the peer with code 1000: client leaves');
    t.is(error.cause.code, 1000);
    t.is(error.cause.by, 'peer');
    t.is((await handle.closed).message, error.cause.message);
});

test('a server-side close rejects the client\'s pending calls with the cause', async (t) => {
    const { server, url } = await serve(t);
    const connected = nextConnection(server);
    const client = await Connection.connect(url);
    const [handle] = await connected;
    const pending = client.remote.invoke('never');
    await client.remote.invoke('add', 1, 1); // `never` has arrived
    handle.close(new Error('bye'));
    const error = await rejection(pending);
    t.is(error.message, 'Connection closed because: WebSocket closed by the peer with code 1000: bye');
    t.is((await rejection(client.remote.invoke('add', 1, 2))).message, error.message);
});

test('server.close() rejects pending calls on both sides and closes every socket with 1001', async (t) => {
    const { server, url } = await serve(t);
    const handles = [];
    server.on('connection', (handle) => handles.push(handle));
    const clients = await Promise.all([1, 2, 3].map(() => Connection.connect(url, service)));
    const fromClients = clients.map((c) => c.remote.invoke('never'));
    await Promise.all(clients.map((c) => c.remote.invoke('add', 0, 0)));
    const fromServer = handles.map((h) => h.remote.invoke('never'));
    const closing = server.close();
    for (const error of await Promise.all(fromServer.map(rejection))) {
        t.is(error.message, 'Connection closed because: server closed');
    }
    await closing;
    t.deepEqual(server.stats(), { connections: 0, handles: 0 });
    for (const error of await Promise.all(fromClients.map(rejection))) {
        t.is(error.message, 'Connection closed because: WebSocket closed by the peer with code 1001: server closed');
    }
    t.is(server.close(), closing, 'close is idempotent');
});

test('a TCP reset rejects pending calls at once, on either side', async (t) => {
    // Server side: a `ws` client whose socket is reset.
    const { server, url } = await serve(t);
    const connected = nextConnection(server);
    const ws = await wsClient(t, url);
    const [handle] = await connected;
    const pending = handle.remote.invoke('never');
    ws._socket.resetAndDestroy();
    const error = await rejection(pending);
    t.regex(error.message, /^Connection closed because: WebSocket connection lost: /);
    t.is(error.cause.by, 'error');

    // Client side: our client to a `ws` server that resets the socket.
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    t.teardown(() => new Promise((resolve) => wss.close(resolve)));
    await new Promise((resolve) => wss.once('listening', resolve));
    wss.on('connection', (socket) => socket.once('message', () => socket._socket.resetAndDestroy()));
    const client = await Connection.connect(`ws://127.0.0.1:${wss.address().port}/`);
    const lost = await rejection(client.remote.invoke('anything'));
    t.regex(lost.message, /^Connection closed because: WebSocket connection lost: /);
});

test('maxMessageSize: a larger message closes that socket with 1009, the server goes on', async (t) => {
    const { server, url } = await serve(t, { maxMessageSize: 1024 });
    const connected = nextConnection(server);
    const ws = await wsClient(t, url);
    const [handle] = await connected;
    const closed = wsClosed(ws);
    ws.send(JSON.stringify({ type: 'send', to: '', from: 'Q1', op: 'get', args: ['x'.repeat(4096)] }));
    t.is((await closed).code, 1009);
    const cause = await handle.closed;
    t.is(cause.code, 1009);
    t.regex(cause.message, /refused a message of \d+ bytes: larger than maxMessageSize \(1024\)/);
    const client = await Connection.connect(url);
    t.is(await client.remote.invoke('add', 2, 2), 4);
    await client.close();
});

test('binary frames are read as UTF-8 text; invalid UTF-8 closes with 1007', async (t) => {
    const { url } = await serve(t);
    const ws = await wsClient(t, url);
    const answer = new Promise((resolve) => ws.once('message', (data) => resolve(JSON.parse(String(data)))));
    ws.send(Buffer.from(JSON.stringify({ type: 'send', to: '', from: 'Q1', op: 'post', args: ['add', [2, 3]] })));
    t.deepEqual(await answer, { type: 'resolve', to: 'Q1', resolution: 5 });
    const closed = wsClosed(ws);
    ws.send(Buffer.from([0xff, 0xfe, 0xfd]));
    const { code, reason } = await closed;
    t.is(code, 1007);
    t.regex(reason, /UTF-8/);
});

test('keepalive: a peer that never answers pings is closed with the cause', async (t) => {
    const { server, url } = await serve(t, { pingInterval: 50, pingTimeout: 100 });
    const connected = nextConnection(server);
    await wsClient(t, url, { autoPong: false });
    const [handle] = await connected;
    const cause = await handle.closed;
    t.regex(cause.message, /^keepalive timeout: no answer to a ping within 100 ms$/);
});

test('keepalive: a peer that answers pings stays connected', async (t) => {
    const { url } = await serve(t, { pingInterval: 20, pingTimeout: 40 });
    const client = await Connection.connect(url, null, { pingInterval: 20, pingTimeout: 40 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    t.is(await client.remote.invoke('add', 1, 2), 3);
    t.is(client.closed.inspect().state, 'pending');
    await client.close();
});

test('errors thrown by user code run for the server go to "error", never uncaught', async (t) => {
    const errors = [];
    const { server, url } = await serve(t, {
        local: (info) => {
            if (info.url.endsWith('bad')) throw new Error('no root for you');
            return service;
        },
    });
    server.on('error', (error) => errors.push(error.message));
    const ws = await wsClient(t, url + '?bad');
    t.is((await wsClosed(ws)).code, 4500);
    server.once('connection', () => {
        throw new Error('listener broke');
    });
    const client = await Connection.connect(url);
    t.is(await client.remote.invoke('add', 1, 1), 2);
    t.deepEqual(errors, ['no root for you', 'listener broke']);
    await client.close();
});

test('wss: our client trusts a certificate given as `ca`, and refuses the server without it', async (t) => {
    // A self-signed certificate for localhost and 127.0.0.1, valid until 2126
    // (fixtures/tls, made with openssl req -x509; the cargo tests make theirs with rcgen).
    const tls = path.join(__dirname, 'fixtures', 'tls');
    const cert = fs.readFileSync(path.join(tls, 'localhost-cert.pem'));
    const key = fs.readFileSync(path.join(tls, 'localhost-key.pem'));
    const httpsServer = https.createServer({ cert, key });
    const wss = new WebSocketServer({ server: httpsServer });
    wss.on('connection', (ws) => Connection(ws, service));
    await new Promise((resolve) => httpsServer.listen(0, '127.0.0.1', resolve));
    t.teardown(() => {
        for (const ws of wss.clients) ws.terminate();
        return new Promise((resolve) => httpsServer.close(resolve));
    });
    const url = `wss://localhost:${httpsServer.address().port}/`;
    const refused = await t.throwsAsync(Connection.connect(url));
    t.regex(refused.message, /could not connect to wss:\/\/localhost:\d+\/: .*(certificate|Unknown)/i);
    await t.throwsAsync(Connection.connect(url, null, { ca: 'not a certificate' }), { message: /PEM/ });
    const client = await Connection.connect(url, null, { ca: cert });
    t.is(await client.remote.invoke('add', 20, 22), 42);
    await client.close();
});

test('without an "error" listener, what user code throws becomes a process warning', async (t) => {
    const { server, url } = await serve(t);
    const warned = new Promise((resolve) => process.once('warning', resolve));
    server.once('connection', () => {
        throw 'not even an Error'; // eslint-disable-line no-throw-literal
    });
    const client = await Connection.connect(url);
    t.is((await warned).message, 'not even an Error');
    t.is(await client.remote.invoke('add', 1, 1), 2);
    await client.close();
});

test('a process with a server and a client exits by itself once both are closed', async (t) => {
    const script = path.join(__dirname, 'fixtures', 'native-exit.js');
    const started = Date.now();
    const { stdout } = await new Promise((resolve, reject) => {
        execFile(process.execPath, [script], { timeout: 20000 }, (error, out, err) => {
            if (error) reject(new Error(`${error.message}\n${err}`));
            else resolve({ stdout: out });
        });
    });
    t.log(`exited ${Date.now() - started} ms after start`);
    t.deepEqual(stdout.trim().split('\n'), ['answer 3', 'rejected: Connection closed because: server closed', 'done']);
});
