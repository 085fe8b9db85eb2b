'use strict';

// Reference release (docs/PROTOCOL-EXTENSIONS.md, release): imports are
// tracked with a FinalizationRegistry and released, with the number of
// times each id arrived, once collected; the owner then drops its export.
// The heavy run is a child process started with --expose-gc; the light
// tests get `gc` through v8 flags, so ava workers need no flags.

const test = require('ava');
const path = require('path');
const v8 = require('v8');
const vm = require('vm');
const { execFile } = require('child_process');
const { MessageChannel } = require('worker_threads');
const Connection = require('..');
const { adjustExternalMemory } = require('../binding.js');
const { rawPeer, closeAll } = require('./helpers/raw-peer');
const { sleep, until } = require('./helpers/wire');

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

const HELLO = JSON.stringify({ type: 'hello', version: 1, extensions: ['release'] });
// Calls in the heavy run (issue #5), and its deadline on a loaded machine
// (about 45 s of CPU over two threads).
const CALLS = 1000000;
const HEAVY_TIMEOUT = 300000;

test.after.always(closeAll);

async function collect(rounds = 4) {
    for (let round = 0; round < rounds; round++) {
        gc();
        await sleep(round < 2 ? 10 : 250);
    }
}

const releases = (peer) => peer.received.map((text) => JSON.parse(text)).filter((m) => m.type === 'release');

test('an id received twice is one object and is released with count 2; a later sending is a fresh import', async (t) => {
    let held = [];
    const peer = rawPeer({ take(f) { held.push(f); return held.length; } }, { extensions: ['release'] });
    peer.post(HELLO);
    const ref = { '@': 'X1', type: 'function' };
    t.is(await peer.call('', 'post', ['take', [ref]]), 1);
    t.is(await peer.call('', 'post', ['take', [ref]]), 2);
    t.is(held[0], held[1], 'the same id gives the same function while it lives');
    held = [];
    await collect();
    await until(() => releases(peer).length === 1);
    t.deepEqual(releases(peer)[0].ids, { X1: 2 }, 'both receptions released at once');
    // The owner re-sent X1 while that release was in flight: a fresh import,
    // released on its own with its own count.
    t.is(await peer.call('', 'post', ['take', [ref]]), 1);
    held = [];
    await collect();
    await until(() => releases(peer).length === 2);
    t.deepEqual(releases(peer)[1].ids, { X1: 1 });
    peer.close();
});

test('a promise, its FarReference and its function keep the import alive while held', async (t) => {
    let kept = null;
    const peer = rawPeer({ take(f) { kept = f; return 1; } }, { extensions: ['release'] });
    peer.post(HELLO);
    await peer.call('', 'post', ['take', [{ '@': 'P1' }]]);
    const reference = await kept; // the FarReference holds the promise
    kept = null;
    await collect();
    t.is(releases(peer).length, 0, 'held through its FarReference');
    t.truthy(reference);
    peer.close();
});

test('the owner drops a released export and frees its slot', async (t) => {
    const peer = rawPeer({ make() { return () => 1; } }, { extensions: ['release'] });
    peer.post(HELLO);
    const base = peer.handle.stats();
    const resolution = await peer.call('', 'post', ['make', []]);
    const id = resolution['@'];
    t.is(typeof id, 'string');
    t.is(peer.handle.stats().exports, base.exports + 1);
    t.is(peer.handle.stats().slots, base.slots + 1);
    peer.post(JSON.stringify({ type: 'release', ids: { [id]: 1 } }));
    await until(() => peer.handle.stats().exports === base.exports);
    t.is(peer.handle.stats().slots, base.slots);
    peer.close();
});

test('without release agreed (0.6.1 wire) imports are never released', async (t) => {
    let held = [];
    const peer = rawPeer({ take(f) { held.push(f); return held.length; } });
    const ref = { '@': 'Y1', type: 'function' };
    await peer.call('', 'post', ['take', [ref]]);
    await peer.call('', 'post', ['take', [ref]]);
    t.not(held[0], held[1], 'a fresh proxy per decoding, as in 0.6.1');
    held = [];
    await collect();
    t.deepEqual(releases(peer), []);
    t.true(peer.received.every((text) => JSON.parse(text).type === 'resolve'));
    peer.close();
});

test.serial('each live import is reported to V8 as 4 KiB of external memory, until finalized or closed', async (t) => {
    let held = [];
    const peer = rawPeer({ take(...functions) { held = functions; return functions.length; } }, { extensions: ['release'] });
    peer.post(HELLO);
    const refs = Array.from({ length: 640 }, (_, i) => ({ '@': `E${i}`, type: 'function' }));
    // V8's total of reported external memory (memoryUsage() leaves it out).
    const external = () => adjustExternalMemory(0);
    const start = external();
    t.is(await peer.call('', 'post', ['take', refs]), 640);
    // 640 imports at 4 KiB each, reported in steps of 64 imports (so within
    // a tenth); other external memory (buffers) moves by far less.
    const cost = 640 * 4096;
    const near = (expected) => Math.abs(external() - start - expected) < cost / 5;
    t.true(near(cost), 'reported while held');
    held = [];
    await collect();
    await until(() => releases(peer).length === 1);
    t.true(near(0), 'taken back once finalized');
    t.is(await peer.call('', 'post', ['take', refs]), 640);
    t.true(near(cost), 'reported again');
    peer.close();
    await until(() => near(0));
    t.pass('taken back on close');
});

test('two rs peers, 1,000,000 calls passing callbacks: exports never pile up, tables and RSS come back', async (t) => {
    t.timeout(HEAVY_TIMEOUT);
    const fixture = path.join(__dirname, 'fixtures', 'release-gc.js');
    const stdout = await new Promise((resolve, reject) => {
        execFile(process.execPath, ['--expose-gc', fixture, String(CALLS)], { timeout: HEAVY_TIMEOUT },
            (error, out, err) => (error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out)));
    });
    const { before, after, rssBefore, rssAfter, seconds, peak } = JSON.parse(stdout);
    const mb = (bytes) => (bytes / 2 ** 20).toFixed(1);
    t.log(`${CALLS} calls in ${seconds} s; at most ${peak} exports; RSS ${mb(rssBefore)} -> ${mb(rssAfter)} MB`);
    // Dead imports are finalized well before the peer's default maxExports
    // (100,000) refuses an export (lib/extensions/imports.js).
    t.true(peak < 50000, `the client held ${peak} exports at once`);
    for (const side of ['client', 'server']) {
        for (const key of ['exports', 'slots', 'questions', 'answers']) {
            t.is(after[side][key], before[side][key], `${side} ${key}`);
        }
        t.is(after[side].callsRefused, 0, `${side} refused no call`);
        t.is(after[side].exportsRefused, 0, `${side} refused no export`);
    }
    t.true(after.server.releasesOut > before.server.releasesOut, 'the server released');
    t.true(rssAfter - rssBefore < 20 * 2 ** 20, `RSS grew ${mb(rssAfter - rssBefore)} MB`);
});
