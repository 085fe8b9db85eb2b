'use strict';

// A peer that floods calls and does not read the answers, for the
// backpressure specs (ports-backpressure, native-backpressure): a `ws`
// client, paused, sending `echo` calls of ~4 KiB each as its own buffer
// allows.

const { WebSocket } = require('ws');

const PAYLOAD = 'x'.repeat(4096);

/** The raw 0.6.1 call number `n`: echo of PAYLOAD + n, answered to `P<n>`. */
function call(n) {
    return JSON.stringify({ type: 'send', to: '', from: `P${n}`, op: 'post', args: ['echo', [PAYLOAD + n]] });
}

/** Resolves once `check()` is true (polled every 5 ms). */
const until = (check) => new Promise((resolve) => {
    const timer = setInterval(() => {
        if (check()) {
            clearInterval(timer);
            resolve();
        }
    }, 5);
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Opens a `ws` client to `url` that does not read (paused) and sends calls
 * 0..count-1, waiting only while its own buffer holds over 1 MiB (which it
 * does for ever once the other side stops reading). Resolves, once open,
 * with {peer, answers (parsed, in arrival order), sent()}. Terminated after
 * the test.
 */
async function floodingPeer(t, url, count) {
    const peer = new WebSocket(url);
    t.teardown(() => peer.terminate());
    const answers = [];
    peer.on('message', (data) => answers.push(JSON.parse(data.toString())));
    await new Promise((resolve, reject) => {
        peer.once('open', resolve);
        peer.once('error', reject);
    });
    peer.pause();
    let sent = 0;
    (function pump() {
        while (sent < count && peer.bufferedAmount < (1 << 20)) peer.send(call(sent++));
        if (sent < count && peer.readyState === WebSocket.OPEN) setTimeout(pump, 1);
    })();
    return { peer, answers, sent: () => sent };
}

/** Checks that `answers` are the answers to calls 0..count-1, in order. */
function checkAnswers(t, answers, count) {
    t.deepEqual(answers.map((answer) => answer.to), Array.from({ length: count }, (_, n) => `P${n}`));
    t.true(answers.every((answer, n) => answer.type === 'resolve' && answer.resolution === PAYLOAD + n));
}

/** Samples `read()` every millisecond; `.max` is the largest value seen. Stopped after the test. */
function sampler(t, read) {
    const samples = { max: 0 };
    const timer = setInterval(() => {
        samples.max = Math.max(samples.max, read());
    }, 1);
    t.teardown(() => clearInterval(timer));
    return samples;
}

module.exports = { PAYLOAD, call, until, sleep, floodingPeer, checkAnswers, sampler };
