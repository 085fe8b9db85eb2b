'use strict';

// ws:// sockets are read on the JS thread that owns the connection
// (src/napi/uv_reader.rs over src/transport/host_read.rs). Against a raw
// WebSocket server written here byte by byte: a frame right behind the 101
// response, fragments with a ping between them (answered with a masked
// pong), a close frame right behind messages; the JS callback's contract
// (nextTick and microtasks run right after it, an exception goes to the
// error callback); a connection owned by a worker thread that ends or is
// terminated.

const test = require('ava');
const crypto = require('crypto');
const net = require('net');
const path = require('path');
const { Worker } = require('worker_threads');
const Connection = require('..');
const native = require('../lib/native');
const { wsConnect } = require('../binding.js');

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** An unmasked (server) frame. */
function frame(opcode, payload, fin = true) {
    const body = Buffer.from(payload);
    const head = body.length < 126 ? Buffer.from([0, body.length]) : Buffer.from([0, 126, body.length >> 8, body.length & 255]);
    head[0] = (fin ? 0x80 : 0) | opcode;
    return Buffer.concat([head, body]);
}

const closeFrame = (code, reason) => frame(8, Buffer.concat([Buffer.from([code >> 8, code & 255]), Buffer.from(reason)]));

/** Masked (client) frames parsed from `buffer`: [{opcode, payload}], and the unparsed rest. */
function clientFrames(buffer) {
    const frames = [];
    for (;;) {
        if (buffer.length < 2) break;
        let length = buffer[1] & 127;
        let at = 2;
        if (length === 126) {
            if (buffer.length < 4) break;
            length = buffer.readUInt16BE(2);
            at = 4;
        }
        if (buffer.length < at + 4 + length) break;
        const key = buffer.subarray(at, at + 4);
        const payload = Buffer.from(buffer.subarray(at + 4, at + 4 + length));
        for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3];
        frames.push({ opcode: buffer[0] & 15, masked: (buffer[1] & 128) !== 0, payload });
        buffer = buffer.subarray(at + 4 + length);
    }
    return { frames, rest: buffer };
}

/**
 * A raw WebSocket server: `onOpen(socket, response)` gets the socket once the
 * request is read, and the 101 response to write (alone or with frames);
 * `socket.frames` collects the client's frames.
 */
async function rawServer(t, onOpen) {
    const sockets = [];
    const server = net.createServer((socket) => {
        sockets.push(socket);
        let head = Buffer.alloc(0);
        let open = false;
        socket.frames = [];
        socket.on('error', () => {});
        socket.on('data', (chunk) => {
            head = Buffer.concat([head, chunk]);
            if (!open) {
                const end = head.indexOf('\r\n\r\n');
                if (end < 0) return;
                const key = /sec-websocket-key: *(\S+)/i.exec(head.subarray(0, end).toString())[1];
                head = head.subarray(end + 4);
                open = true;
                const accept = crypto.createHash('sha1').update(key + GUID).digest('base64');
                const response = Buffer.from(
                    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
                        `Sec-WebSocket-Accept: ${accept}\r\n\r\n`
                );
                onOpen(socket, response);
            }
            const { frames, rest } = clientFrames(head);
            head = rest;
            socket.frames.push(...frames);
            socket.emit('frames');
        });
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.teardown(() => {
        sockets.forEach((s) => s.destroy());
        server.close();
    });
    return `ws://127.0.0.1:${server.address().port}/`;
}

/** A native client port with a sink collecting messages and the end. */
async function collect(url) {
    const port = await native.connectPort(url, {});
    const got = { messages: [], closed: null };
    let wake = () => {};
    got.until = (check) =>
        new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`not within 10 s; got ${JSON.stringify(got)}`)), 10000);
            wake = () => check() && (clearTimeout(timer), resolve());
            wake();
        });
    port.attach({
        message: (text) => {
            got.messages.push(text);
            wake();
        },
        closed: (error) => {
            got.closed = error;
            wake();
        },
    });
    return { port, got };
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

test('frames written right behind the 101 response, in the same segment, are all received', async (t) => {
    const url = await rawServer(t, (socket, response) => {
        socket.write(Buffer.concat([response, frame(1, 'hello'), frame(1, 'x'.repeat(300)), frame(2, 'as binary')]));
    });
    const { port, got } = await collect(url);
    await got.until(() => got.messages.length === 3);
    t.deepEqual(got.messages, ['hello', 'x'.repeat(300), 'as binary']);
    port.close();
});

test('a fragmented message with a ping between its fragments; the pong is masked and echoes the ping', async (t) => {
    let server;
    const url = await rawServer(t, async (socket, response) => {
        server = socket;
        socket.write(response);
        socket.write(frame(1, 'frag', false));
        await pause(20);
        socket.write(frame(9, 'are you there?'));
        const split = frame(0, 'ment', true);
        socket.write(split.subarray(0, 3)); // a frame cut inside its payload
        await pause(20);
        socket.write(split.subarray(3));
    });
    const { port, got } = await collect(url);
    await got.until(() => got.messages.length === 1);
    t.deepEqual(got.messages, ['fragment']);
    await new Promise((resolve) => (server.frames.length ? resolve() : server.once('frames', resolve)));
    t.like(server.frames[0], { opcode: 10, masked: true });
    t.is(server.frames[0].payload.toString(), 'are you there?');
    port.close();
});

test('a close frame right behind messages: every message first, then the end with the peer\'s code', async (t) => {
    const url = await rawServer(t, (socket, response) => {
        socket.write(response);
        socket.write(Buffer.concat([frame(1, 'a'), frame(1, 'b'), closeFrame(4001, 'bye'), frame(1, 'after the close')]));
    });
    const { got } = await collect(url);
    await got.until(() => got.closed);
    t.deepEqual(got.messages, ['a', 'b']);
    t.is(got.closed.code, 4001);
    t.is(got.closed.by, 'peer');
    t.is(got.closed.message, 'WebSocket closed by the peer with code 4001: bye');
});

test('a masked frame from the server is a protocol error (1002), after the messages before it', async (t) => {
    const masked = Buffer.from([0x81, 0x82, 1, 2, 3, 4, 'h'.charCodeAt(0) ^ 1, 'i'.charCodeAt(0) ^ 2]);
    const url = await rawServer(t, (socket, response) => socket.write(Buffer.concat([response, frame(1, 'ok'), masked])));
    const { got } = await collect(url);
    await got.until(() => got.closed);
    t.deepEqual(got.messages, ['ok']);
    t.is(got.closed.code, 1002);
    t.regex(got.closed.message, /masked frame from server/);
});

test('the batch callback runs like a Node I/O callback: nextTick and microtasks right after it; what it throws goes to onError', async (t) => {
    const url = await rawServer(t, (socket, response) => socket.write(Buffer.concat([response, frame(1, 'one')])));
    const socket = await wsConnect(url, {});
    const order = [];
    const errors = [];
    const done = new Promise((resolve) => {
        socket.start(
            // A read on this thread brings the text read (an array when
            // several); the end comes as a batch object with `closed`.
            (read) => {
                if (typeof read !== 'string' && !Array.isArray(read)) return;
                order.push(`batch ${[].concat(read).join()}`);
                setImmediate(() => {
                    order.push('immediate');
                    resolve();
                });
                Promise.resolve().then(() => order.push('microtask'));
                process.nextTick(() => order.push('tick'));
                throw new Error('thrown by the batch callback');
            },
            (error) => errors.push(error.message)
        );
    });
    const uncaught = (error) => errors.push(`uncaught: ${error.message}`);
    process.on('uncaughtException', uncaught);
    t.teardown(() => process.off('uncaughtException', uncaught));
    await done;
    t.deepEqual(order, ['batch one', 'tick', 'microtask', 'immediate']);
    t.deepEqual(errors, ['thrown by the batch callback']);
    socket.close();
});

/** A worker thread that connects natively to `url`, calls add(1, 2) and posts the result. */
function clientWorker(url, then) {
    const source = `
        const { parentPort, workerData } = require('worker_threads');
        const Connection = require(workerData.root);
        (async () => {
            const handle = await Connection.connect(workerData.url);
            parentPort.postMessage(await handle.remote.invoke('add', 1, 2));
            if (workerData.then === 'close') await handle.close();
        })();`;
    return new Worker(source, { eval: true, workerData: { root: path.join(__dirname, '..'), url, then } });
}

async function until(check, what) {
    for (let waited = 0; !check(); waited += 10) {
        if (waited > 10000) throw new Error(`not within 10 s: ${what}`);
        await pause(10);
    }
}

test('a worker thread that owns a connection: it exits by itself once closed; terminated, its socket is closed', async (t) => {
    const server = await Connection.listen({ local: { add: (a, b) => a + b } });
    t.teardown(() => server.close());
    const url = `ws://127.0.0.1:${server.address().port}/`;

    const closing = clientWorker(url, 'close');
    const [sum] = await Promise.all([new Promise((resolve) => closing.once('message', resolve)), new Promise((resolve) => closing.once('exit', resolve))]);
    t.is(sum, 3);

    const staying = clientWorker(url, 'stay');
    t.is(await new Promise((resolve) => staying.once('message', resolve)), 3);
    await until(() => server.stats().connections === 1, 'one connection');
    await staying.terminate();
    await until(() => server.stats().connections === 0, 'the terminated worker\'s socket closed');
    t.pass();
});
