'use strict';

// Reach only what was given: each named prototype attack, sent as raw wire
// text, is refused with a rejection and the connection keeps serving.

const test = require('ava');
const Q = require('q');
const { MessageChannel } = require('worker_threads');
const { open } = require('..');
const { rawPeer, closeAll, rejectionMessage, prototypeSnapshot } = require('./helpers/raw-peer');

class Counter {
    constructor() {
        this.count = 0;
    }

    increment(by) {
        this.count += by;
        return this.count;
    }
}

class Sub extends Counter {
    twice() {
        return this.increment(2);
    }
}

function makeRoot() {
    return {
        value: 7,
        counter: new Sub(),
        echo: (x) => x,
        add(a, b) {
            return a + b;
        }
    };
}

const before = prototypeSnapshot();
test.after.always(closeAll);
test.afterEach.always((t) => {
    t.deepEqual(prototypeSnapshot(), before, 'a shared prototype changed');
    t.is({}.polluted, undefined);
});

test('get("__proto__") is refused, and set through it is refused too', async (t) => {
    const peer = rawPeer(makeRoot());
    t.is(rejectionMessage(await peer.call('', 'get', ['__proto__'])), 'property "__proto__" is not reachable');
    t.is(rejectionMessage(await peer.call('', 'set', ['__proto__', { polluted: true }])),
        'property "__proto__" is not reachable');
    t.is(rejectionMessage(await peer.call('', 'post', ['__proto__', []])), 'property "__proto__" is not reachable');
    t.is(rejectionMessage(await peer.call('', 'delete', ['__proto__'])), 'property "__proto__" is not reachable');
    // The connection goes on serving.
    t.is(await peer.call('', 'get', ['value']), 7);
    peer.close();
});

test('constructor.constructor cannot reach Function', async (t) => {
    const peer = rawPeer(makeRoot());
    t.is(rejectionMessage(await peer.call('', 'get', ['constructor'])), 'property "constructor" is not reachable');
    t.is(rejectionMessage(await peer.call('', 'post', ['constructor', ['return process']])),
        'property "constructor" is not reachable');
    // Through a function the peer was given: `echo` arrives by reference.
    const echo = await peer.call('', 'get', ['echo']);
    t.is(echo.type, 'function');
    for (const name of ['constructor', 'prototype', '__proto__', 'call', 'apply', 'bind', 'toString']) {
        t.is(rejectionMessage(await peer.call(echo['@'], 'get', [name])), `property "${name}" is not reachable`);
    }
    t.is(rejectionMessage(await peer.call(echo['@'], 'post', ['call', [null, 1]])), 'property "call" is not reachable');
    // What it was given still works: calling the function.
    t.is(await peer.call(echo['@'], 'apply', [null, [5]]), 5);
    t.is(await peer.call(echo['@'], 'post', [null, [6]]), 6);
    peer.close();
});

test('members inherited from Object.prototype are refused; own and class members are reached', async (t) => {
    const peer = rawPeer(makeRoot());
    for (const name of ['toString', 'hasOwnProperty', '__defineGetter__', '__lookupSetter__', 'valueOf']) {
        t.is(rejectionMessage(await peer.call('', 'post', [name, []])), `property "${name}" is not reachable`);
    }
    t.is(await peer.call('', 'post', ['add', [2, 3]]), 5);
    const counter = await peer.call('', 'get', ['counter']);
    t.is(counter.type, 'object');
    t.is(await peer.call(counter['@'], 'post', ['increment', [4]]), 4);
    t.is(await peer.call(counter['@'], 'post', ['twice', []]), 6);
    t.deepEqual(await peer.call(counter['@'], 'keys', []), ['count']);
    t.is(rejectionMessage(await peer.call(counter['@'], 'get', ['constructor'])), 'property "constructor" is not reachable');
    t.is(rejectionMessage(await peer.call(counter['@'], 'set', ['__proto__', null])), 'property "__proto__" is not reachable');
    t.is(rejectionMessage(await peer.call(counter['@'], 'post', ['isPrototypeOf', [{}]])),
        'property "isPrototypeOf" is not reachable');
    // A missing name reads as undefined and can be written, as on any object.
    t.deepEqual(await peer.call('', 'get', ['missing']), { '%': 'undefined' });
    t.deepEqual(await peer.call('', 'set', ['fresh', 1]), { '%': 'undefined' });
    t.is(await peer.call('', 'get', ['fresh']), 1);
    peer.close();
});

test('a name the target defines itself is reachable, even a shared one', async (t) => {
    const root = { constructor: 'mine', toString: () => 'own', __proto__: null };
    Object.defineProperty(root, '__proto__', { value: 'data', enumerable: true, writable: true, configurable: true });
    const peer = rawPeer(root);
    t.is(await peer.call('', 'get', ['constructor']), 'mine');
    t.is(await peer.call('', 'post', ['toString', []]), 'own');
    t.is(await peer.call('', 'get', ['__proto__']), 'data');
    t.deepEqual(await peer.call('', 'set', ['__proto__', 'changed']), { '%': 'undefined' });
    t.is(root.__proto__, 'changed');
    t.is(Object.getPrototypeOf(root), null);
    peer.close();
});

test('apply ignores the peer\'s thisp', async (t) => {
    let seen = 'unset';
    const peer = rawPeer({
        whoAmI: function () {
            seen = this;
            return 1;
        }
    });
    const fn = await peer.call('', 'get', ['whoAmI']);
    t.is(await peer.call(fn['@'], 'apply', [{ evil: true }, []]), 1);
    t.is(seen, undefined);
    t.is(rejectionMessage(await peer.call('', 'apply', [null, []])), 'the target is not a function');
    peer.close();
});

test('wrong name types and argument shapes are rejections, not crashes', async (t) => {
    const peer = rawPeer(makeRoot());
    t.is(rejectionMessage(await peer.call('', 'get', [{ toString: 1 }])), 'property name must be a string, not object');
    t.is(rejectionMessage(await peer.call('', 'get', [null])), 'property name must be a string, not null');
    t.is(rejectionMessage(await peer.call('', 'post', ['add', 'notarray'])), 'call arguments must be an array');
    t.is(rejectionMessage(await peer.call('', 'post', ['value', []])), 'property "value" is not a function');
    t.is(rejectionMessage(await peer.call('', 'get', [])), 'property name must be a string, not undefined');
    t.is(await peer.call('', 'post', ['add', [1, 2]]), 3);
    peer.close();
});

test('a promise target is waited for, then guarded', async (t) => {
    for (const make of [
        (root) => Q(root),
        (root) => Promise.resolve(root),
        (root) => Q.delay(20).then(() => root)
    ]) {
        const peer = rawPeer(make(makeRoot()));
        t.is(await peer.call('', 'get', ['value']), 7);
        t.is(rejectionMessage(await peer.call('', 'get', ['__proto__'])), 'property "__proto__" is not reachable');
        t.is(rejectionMessage(await peer.call('', 'post', ['constructor', []])), 'property "constructor" is not reachable');
        peer.close();
    }
    const rejected = rawPeer(Q.reject(new Error('no root')));
    t.is(rejectionMessage(await rejected.call('', 'get', ['value'])), 'no root');
    rejected.close();
});

test('a far promise target is forwarded, and the far side guards', async (t) => {
    // back <-> middle: middle's root is a promise for back's root.
    const { port1, port2 } = new MessageChannel();
    const back = open(port1, makeRoot());
    const middleToBack = open(port2, {});
    const peer = rawPeer(middleToBack.remote);
    t.is(await peer.call('', 'post', ['add', [20, 22]]), 42);
    t.is(rejectionMessage(await peer.call('', 'get', ['__proto__'])), 'property "__proto__" is not reachable');
    t.is(back.stats().sendsIn, 2);
    peer.close();
    back.close();
    middleToBack.close();
});

test('guard: false is 0.6.1\'s reach, for trusted peers', async (t) => {
    const peer = rawPeer(makeRoot(), { guard: false });
    const ctor = await peer.call('', 'get', ['constructor']);
    t.is(ctor.type, 'function');
    t.is(await peer.call('', 'post', ['hasOwnProperty', ['value']]), true);
    peer.close();
});
