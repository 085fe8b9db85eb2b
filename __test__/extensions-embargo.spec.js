'use strict';

// Embargo (docs/PROTOCOL-EXTENSIONS.md, "embargo"): a pipelined question
// whose answer is one of the asker's own objects. Messages pipelined to it
// come back through the answering side; messages sent after the answer
// arrived must not overtake them. The link delays every message, and the
// pipelined one is sent after the answer left, so the race is real.

const test = require('ava');
const Q = require('q');
const Connection = require('..');
const { recordingLink, envelopes, until } = require('./helpers/wire');

const DELAY = 30;

class Recorder {
    constructor() {
        this.seen = [];
    }
    m(i) {
        this.seen.push(i);
        return i;
    }
}

/** A pair over a delayed link, the hellos crossed; B echoes what it gets. */
async function pair() {
    const link = recordingLink({ delay: DELAY });
    const a = Connection.open(link.a, null);
    const b = Connection.open(link.b, { echo: (x) => x });
    await a.remote.invoke('echo', 0);
    return { link, a, b };
}

/** Resolves once the last `echo` call has reached B (B answers it in that turn). */
async function echoArrived(link) {
    const count = () => link.timeline.filter((e) => e.dir === 'ab' && e.phase === 'arrive' && e.text.includes('"echo"')).length;
    const before = count();
    await until(() => count() > before);
}

const sendsAfter = (list, from) => envelopes(list.slice(from)).filter((m) => m.type === 'send');

test('calls through an answer that is our own object are seen in the order sent', async (t) => {
    const { link, a, b } = await pair();
    t.true(a.peerHas('identity') && a.peerHas('pipeline'));
    const recorder = new Recorder();
    const read = [];
    // Records the names read on it: the marker must not reach it.
    const mine = new Proxy(recorder, {
        get(target, name, receiver) {
            read.push(name);
            return Reflect.get(target, name, receiver);
        },
    });
    const q = a.remote.invoke('echo', mine);
    await echoArrived(link); // B answers `echo` before the pipelined calls reach it
    const sent = [q.invoke('m', 1), q.invoke('m', 2)]; // pipelined: through B and back
    t.is(await q, mine, 'the answer is the original');
    sent.push(q.invoke('m', 3), q.invoke('m', 4)); // after the answer: embargoed
    t.deepEqual(await Q.all(sent), [1, 2, 3, 4]);
    t.deepEqual(recorder.seen, [1, 2, 3, 4]);
    t.false(read.some((name) => String(name).startsWith('q-connection-rs')), 'the marker never reached the object');
    // The marker went to the question id after the pipelined calls, and
    // came back as a call that was answered, not applied.
    const qid = envelopes(link.log.ab).filter((m) => m.type === 'send' && m.args[0] === 'echo').pop().from;
    const toQuestion = envelopes(link.log.ab).filter((m) => m.to === qid);
    t.deepEqual(toQuestion.map((m) => m.op), ['post', 'post', 'get']);
    t.regex(toQuestion[2].args[0], /^q-connection-rs embargo \d+$/);
    const back = envelopes(link.log.ba).filter((m) => m.type === 'send' && m.op === 'get');
    t.deepEqual(back.map((m) => m.args), [toQuestion[2].args], 'B sent it back to the object');
    await until(() => a.stats().questions === 0 && b.stats().answers === 0);
    link.close(new Error('done'));
});

test('on a fresh connection: calls held before the hello, then pipelined, are embargoed too', async (t) => {
    const link = recordingLink({ delay: DELAY });
    const a = Connection.open(link.a, null);
    Connection.open(link.b, { echo: (x) => x });
    const mine = new Recorder();
    const q = a.remote.invoke('echo', mine);
    const sent = [q.invoke('m', 1), q.invoke('m', 2)]; // held until B's hello, then pipelined
    t.is(await q, mine);
    sent.push(q.invoke('m', 3));
    t.deepEqual(await Q.all(sent), [1, 2, 3]);
    t.deepEqual(mine.seen, [1, 2, 3]);
    link.close(new Error('done'));
});

test('no embargo when nothing was pipelined: the next call runs locally at once', async (t) => {
    const { link, a } = await pair();
    const mine = new Recorder();
    const q = a.remote.invoke('echo', mine);
    t.is(await q, mine);
    const before = link.log.ab.length;
    const arrivals = link.timeline.length;
    t.is(await q.invoke('m', 1), 1);
    t.deepEqual(mine.seen, [1]);
    t.is(link.log.ab.length, before, 'nothing sent');
    t.deepEqual(link.timeline.slice(arrivals).filter((e) => e.phase === 'arrive'), [], 'nothing waited for');
    t.is(a.stats().questions, 0);
    link.close(new Error('done'));
});

test('the embargo holds for a far function too (the marker comes back as its answer)', async (t) => {
    const { link, a } = await pair();
    const seen = [];
    const mine = (i) => {
        seen.push(i);
        return i;
    };
    const q = a.remote.invoke('echo', mine);
    await echoArrived(link);
    const sent = [q.fcall(1), q.fcall(2)];
    t.is(await q, mine);
    sent.push(q.fcall(3));
    t.deepEqual(await Q.all(sent), [1, 2, 3]);
    t.deepEqual(seen, [1, 2, 3]);
    t.is(sendsAfter(link.log.ab, 0).filter((m) => m.op === 'get').length, 1, 'one marker');
    link.close(new Error('done'));
});
