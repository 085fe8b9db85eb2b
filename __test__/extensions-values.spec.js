'use strict';

// Richer values between two rs peers ("values"), both ways, and the 0.6.1
// encoding kept for a 0.6.1 peer and for a peer that did not agree.

const test = require('ava');
const Connection = require('..');
const { Connection: Connection061 } = require('./helpers/q-connection-061');
const { recordingLink, envelopes } = require('./helpers/wire');

const echo = {
    echo: (x) => x,
    fail: () => {
        throw new TypeError('from the far side');
    },
};

async function pair(bOptions) {
    const link = recordingLink();
    const a = Connection.open(link.a, { echo: (x) => x });
    Connection.open(link.b, echo, bOptions);
    await a.remote.invoke('echo', 0); // the hellos have crossed
    return { link, a };
}

function samples() {
    const cyclic = new Map();
    cyclic.set('self', cyclic);
    return {
        bigint: 12345678901234567890123n,
        negativeZero: -0,
        date: new Date(Date.UTC(2020, 1, 29, 12)),
        invalidDate: new Date(NaN),
        map: new Map([[1, 'one'], ['nested', new Map([[true, [1, 2]]])]]),
        cyclic,
        set: new Set(['a', 2, null]),
        bytes: new Uint8Array([0, 1, 254, 255]),
        buffer: Buffer.from('héllo'),
        arrayBuffer: new Uint8Array([9, 8, 7]).buffer,
        floats: new Float64Array([1.5, -2]),
    };
}

test('each richer value crosses both ways as itself', async (t) => {
    const { link, a } = await pair();
    t.true(a.peerHas('values'));
    const values = samples();
    for (const [name, value] of Object.entries(values)) {
        const back = await a.remote.invoke('echo', value);
        if (name === 'cyclic') {
            t.true(back instanceof Map && back.get('self') === back, name);
        } else if (name === 'negativeZero') {
            t.true(Object.is(back, -0), name);
        } else {
            t.is(Object.prototype.toString.call(back), Object.prototype.toString.call(value), name);
            t.deepEqual(back, value, name);
        }
    }
    t.true(Buffer.isBuffer(await a.remote.invoke('echo', values.buffer)));
    // The far side sends them too: a value made there arrives as itself.
    const wire = envelopes(link.log.ba).filter((m) => m.type === 'resolve').map((m) => JSON.stringify(m.resolution));
    t.true(wire.some((text) => text.startsWith('{"%":"bigint"')));
    t.true(wire.some((text) => text.startsWith('{"%":"date"')));
    link.close(new Error('done'));
});

test('errors are rebuilt as instances of their class with name, message, cause and own properties', async (t) => {
    const { link, a } = await pair();
    const cause = new RangeError('inner');
    const error = new TypeError('outer', { cause });
    error.code = 'E_OUTER';
    class Custom extends Error {}
    const custom = new Custom('mine');
    custom.name = 'CustomError';
    const back = await a.remote.invoke('echo', [error, custom]);
    t.true(back[0] instanceof TypeError);
    t.is(back[0].message, 'outer');
    t.is(back[0].code, 'E_OUTER');
    t.true(back[0].cause instanceof RangeError);
    t.is(back[0].cause.message, 'inner');
    t.is(back[0].stack, error.stack);
    t.true(back[1] instanceof Error);
    t.is(back[1].name, 'CustomError');
    // A rejection: the reason is a real TypeError too.
    const reason = await t.throwsAsync(a.remote.invoke('fail'));
    t.true(reason instanceof TypeError);
    link.close(new Error('done'));
});

test('without the agreement, the 0.6.1 encoding: a Date goes by reference, a Map too', async (t) => {
    const { link, a } = await pair({ extensions: ['pipeline'] });
    t.false(a.peerHas('values'));
    await a.remote.invoke('echo', new Date(0));
    const sent = envelopes(link.log.ab).filter((m) => m.type === 'send').pop();
    t.is(sent.args[1][0].type, 'object');
    t.truthy(sent.args[1][0]['@']);
    link.close(new Error('done'));
});

test('a 0.6.1 peer gets the 0.6.1 encoding', async (t) => {
    const link = recordingLink();
    Connection061(link.b, echo);
    const a = Connection.open(link.a, null);
    t.is(await a.remote.invoke('echo', 5), 5);
    await a.remote.invoke('echo', [new Date(0), new Map()]);
    const sent = envelopes(link.log.ab).filter((m) => m.type === 'send').pop();
    t.deepEqual(sent.args[1][0].map((x) => x.type), ['object', 'object']);
    t.false(JSON.stringify(sent).includes('"%"'));
});
