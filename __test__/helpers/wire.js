'use strict';

// A recording link for the extension specs: two Q channels joined by queues,
// where every text put is logged (per direction) and delivered after `delay`
// ms (0: at once). Timers of equal delay fire in the order set, so the link
// stays ordered, like a port. `timeline` holds both directions in one order:
// { dir: 'ab' | 'ba', phase: 'put' | 'arrive', text } (arrive: handed to
// the far side's queue after the delay).

const Queue = require('../../lib/queue');

function recordingLink({ delay = 0 } = {}) {
    const ab = Queue();
    const ba = Queue();
    const log = { ab: [], ba: [] };
    const timeline = [];
    const close = (reason) => {
        ba.close(reason);
        return ab.close(reason);
    };
    const sender = (queue, list, dir) => (text) => {
        list.push(text);
        timeline.push({ dir, phase: 'put', text });
        const arrive = () => {
            timeline.push({ dir, phase: 'arrive', text });
            queue.put(text);
        };
        if (delay > 0) setTimeout(arrive, delay);
        else arrive();
    };
    return {
        log,
        timeline,
        a: { get: ba.get, put: sender(ab, log.ab, 'ab'), close, closed: ba.closed },
        b: { get: ab.get, put: sender(ba, log.ba, 'ba'), close, closed: ab.closed },
        close,
    };
}

/** The envelopes in a log, parsed, in order; a batch (lib/batch.js) gives its pieces. */
function envelopes(list) {
    return list.flatMap((text) => (text[0] === '\n' ? text.slice(1).split('\n') : [text])).map((text) => JSON.parse(text));
}

/** Envelope types in a log, in order. */
function types(list) {
    return envelopes(list).map((envelope) => envelope.type);
}

/** Resolves after `ms` milliseconds. */
function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves once `predicate()` is true, polling; rejects after `ms`. */
async function until(predicate, ms = 5000) {
    const deadline = Date.now() + ms;
    while (!predicate()) {
        if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms: ${predicate}`);
        await sleep(5);
    }
}

module.exports = { recordingLink, envelopes, types, sleep, until };
