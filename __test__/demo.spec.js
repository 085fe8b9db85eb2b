'use strict';

// `npm run demo` runs examples/demo.js: it must print its results and exit
// by itself with code 0.

const path = require('path');
const { execFile } = require('child_process');
const test = require('ava');

test('the demo prints its calls and stats and exits by itself', async (t) => {
    const { code, stdout, stderr } = await new Promise((resolve) => {
        execFile(process.execPath, [path.join(__dirname, '..', 'examples', 'demo.js')],
            { timeout: 50000 }, (error, stdout, stderr) => {
                resolve({ code: error ? error.code : 0, stdout, stderr });
            });
    });
    t.is(code, 0, stderr);
    t.regex(stdout, /counter at 0\ncounter at 1\ncounter at 2\n/);
    t.regex(stdout, /pipelined chain .* = 102 \(4 calls sent\)/);
    t.regex(stdout, /tick\(3\) summed our answers: 14/);
    t.regex(stdout, /its next\(\) is 7/);
    t.regex(stdout, /messages: sent 10 calls and 3 answers; received 3 calls, 10 answers/);
    // The native WebSocket section: round trips counted from the client's trace.
    t.regex(stdout, /server listening on ws:\/\/127\.0\.0\.1:\d+\n/);
    // True pipelining between two rs peers: the dependent chain takes one round trip.
    t.regex(stdout, /pipelined chain makeCounter\(10\)\.step\(\)\.next\(\) = 11 \(3 calls, 1 round trip\)/);
    t.regex(stdout, /100 calls sent at once: counter went 1 to 100 in 1 round trip\n/);
    t.regex(stdout, /tick\(2\) over the socket summed our answers: 30 \(3 round trips/);
    t.regex(stdout, /messages: sent 105 calls and 2 answers; received 105 answers; 1 socket open on the server/);
});
