'use strict';

// A browser peer: Debian's Chromium (headless, driven by playwright-core)
// loads a page served on 127.0.0.1 that bundles the original q-connection
// 0.6.1 (esbuild, at test time) and connects with the browser's own
// WebSocket to our Rust server. One call each way. Not skipped: without
// /usr/bin/chromium (.ci/run installs it) this test fails.

const test = require('ava');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const esbuild = require('esbuild');
const { chromium } = require('playwright-core');
const Connection = require('..');

const CHROMIUM = '/usr/bin/chromium';

/** Serves the page and the bundle on 127.0.0.1; resolves to its origin. */
async function servePage(t) {
    const bundle = esbuild.buildSync({
        entryPoints: [path.join(__dirname, 'fixtures', 'browser', 'peer.js')],
        bundle: true,
        write: false,
        platform: 'browser',
        format: 'iife',
        logLevel: 'silent',
    }).outputFiles[0].text;
    const page = '<!doctype html><meta charset="utf-8"><title>q-connection 0.6.1 peer</title><script src="/peer.js"></script>';
    const server = http.createServer((request, response) => {
        if (request.url === '/') {
            response.writeHead(200, { 'content-type': 'text/html' }).end(page);
        } else if (request.url === '/peer.js') {
            response.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
        } else {
            response.writeHead(404).end();
        }
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.teardown(() => new Promise((resolve) => server.close(resolve)));
    return `http://127.0.0.1:${server.address().port}`;
}

test('Chromium running q-connection 0.6.1 calls our Rust server, and is called back', async (t) => {
    t.timeout(120000);
    t.true(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium (as .ci/run does)`);
    const origin = await servePage(t);

    const server = await Connection.listen({ path: '/rpc', local: { add: (a, b) => a + b } });
    t.teardown(() => server.close());
    const connected = new Promise((resolve) => server.once('connection', (handle, info) => resolve({ handle, info })));

    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'q-connection-rs-chromium-'));
    t.teardown(() => fs.rmSync(profile, { recursive: true, force: true }));
    const context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
            '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    t.teardown(() => context.close());
    const page = context.pages()[0] || (await context.newPage());
    const errors = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(origin + '/');

    // Browser -> Rust: 0.6.1's remote.invoke over the browser's WebSocket.
    const sum = await page.evaluate((url) => window.connectPeer(url), `ws://127.0.0.1:${server.address().port}/rpc`);
    t.is(sum, 5);

    // Rust -> browser: the server calls the page's local object.
    const { handle, info } = await connected;
    t.is(info.url, '/rpc');
    t.is(info.headers.origin, origin);
    t.is(await handle.remote.invoke('greet', 'rust'), 'hello rust from the browser');
    t.regex(await handle.remote.get('userAgent'), /Chrome\//);
    t.deepEqual(errors, []);
});
