'use strict';

// Send-side backpressure on the native transport (src/transport/link.rs): a
// plain `ws` client on 127.0.0.1 floods calls to Connection.listen and does
// not read the answers. Once more than maxBufferedBytes wait in the link's
// outbound queue, the driver stops reading the socket (TCP backpressure on
// the peer) until the queue drains below half: the queue stays near the mark
// instead of growing with the calls. Once the peer reads, every call is
// answered, in order, and the connection serves on.

const test = require('ava');
const Connection = require('..');
const { call, until, sleep, floodingPeer, checkAnswers, sampler } = require('./helpers/backpressure');

const MARK = 256 << 10;
const CALLS = 6000; // each answer is ~4 KiB: ~24 MiB in all
// Past the mark: the answers to the calls already read when it was passed:
// an inbox (1 MiB of calls) waiting for the host and the batch the host is
// handling (as much again); each answer is the size of its call. Logged.
const SLACK = 4 << 20;

test('native: a peer that floods calls and does not read; the outbound queue stays near the mark, then every call answered in order', async (t) => {
    let served = 0;
    const server = await Connection.listen({
        local: { echo: (text) => { served++; return text; } },
        maxBufferedBytes: MARK,
        extensions: false,
    });
    t.teardown(() => server.close());
    const queued = () => {
        let total = 0;
        for (const port of server.handles.values()) total += port.socket.bufferedAmount;
        return total;
    };
    const buffered = sampler(t, queued);
    const { peer, answers } = await floodingPeer(t, `ws://127.0.0.1:${server.address().port}`, CALLS);

    // The queue passes the mark; then the server stops serving (it reads no
    // more calls) although the peer has more to send.
    await until(() => buffered.max > MARK);
    await sleep(500);
    const servedBackedUp = served;
    await sleep(500);
    t.log(`served ${served} of ${CALLS} while the peer did not read; ` +
        `max queued ${buffered.max} (mark ${MARK}), now ${queued()}`);
    t.is(served, servedBackedUp, 'no call is served while backed up');
    t.true(served < CALLS);
    t.true(buffered.max <= MARK + SLACK, `the queue reached ${buffered.max}`);
    t.is(answers.length, 0);

    // The peer reads: every call is answered, in order.
    peer.resume();
    await until(() => answers.length >= CALLS);
    t.is(served, CALLS);
    checkAnswers(t, answers, CALLS);
    t.true(buffered.max <= MARK + SLACK, `the queue reached ${buffered.max}`);

    // And the connection serves on.
    peer.send(call(CALLS));
    await until(() => answers.length === CALLS + 1);
    t.is(answers[CALLS].to, `P${CALLS}`);
});
