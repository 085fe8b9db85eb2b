'use strict';

// Reference identity ("identity", docs/PROTOCOL-EXTENSIONS.md): a reference
// sent back to its owner arrives as the original value, and a value exported
// twice keeps one id.

const test = require('ava');
const Connection = require('..');
const { recordingLink, envelopes } = require('./helpers/wire');

class Thing {
    constructor(name) {
        this.name = name;
    }
    hello() {
        return `hello from ${this.name}`;
    }
}

async function pair(aOptions) {
    const link = recordingLink();
    const a = Connection.open(link.a, null, aOptions);
    Connection.open(link.b, { echo: (x) => x, call: (f, x) => f(x) });
    await a.remote.invoke('echo', 0); // the hellos have crossed
    return { link, a };
}

test('an object and a function sent back to their owner arrive as the originals (===)', async (t) => {
    const { link, a } = await pair();
    t.true(a.peerHas('identity'));
    const thing = new Thing('mine');
    const fn = (x) => x * 2;
    t.is(await a.remote.invoke('echo', thing), thing);
    t.is(await a.remote.invoke('echo', fn), fn);
    const [first, second] = await a.remote.invoke('echo', [thing, { inner: fn }]);
    t.is(first, thing);
    t.is(second.inner, fn);
    t.is(await a.remote.invoke('call', fn, 21), 42, 'still callable from the far side');
    const back = envelopes(link.log.ba).filter((m) => m.type === 'resolve').map((m) => JSON.stringify(m.resolution));
    t.true(back.some((text) => text.startsWith('{"%":"yours","id":')));
    link.close(new Error('done'));
});

test('the same value exported twice keeps one id', async (t) => {
    const { link, a } = await pair();
    const thing = new Thing('twice');
    await a.remote.invoke('echo', thing);
    await a.remote.invoke('echo', thing);
    const ids = envelopes(link.log.ab).filter((m) => m.type === 'send' && m.args[1] && m.args[1][0] && m.args[1][0]['@'])
        .map((m) => m.args[1][0]['@']);
    t.is(ids.length, 2);
    t.is(ids[0], ids[1]);
    t.is(a.stats().exports, 1);
    link.close(new Error('done'));
});

test('without the agreement a reference comes back as a proxy, as in 0.6.1', async (t) => {
    const { link, a } = await pair({ extensions: ['pipeline'] });
    const thing = new Thing('proxied');
    const back = await a.remote.invoke('echo', thing);
    t.not(back, thing);
    t.is(await back.invoke('hello'), 'hello from proxied');
    // ... and each export takes a fresh id, as 0.6.1 does.
    await a.remote.invoke('echo', thing);
    const ids = envelopes(link.log.ab).filter((m) => m.type === 'send' && m.args[1] && m.args[1][0] && m.args[1][0]['@'])
        .map((m) => m.args[1][0]['@']);
    t.is(ids.length, 2);
    t.not(ids[0], ids[1]);
    link.close(new Error('done'));
});
