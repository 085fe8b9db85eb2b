'use strict';

// A worker thread serving the seed README's counter to its parent, plus a
// little more for the demo: named counters (objects passed by reference, so
// calls on them can be pipelined) and a ticker that calls back its caller.

const { parentPort } = require('worker_threads');
const Q = require('q');
const Connection = require('..');

/** A named counter; not a plain object, so it crosses by reference. */
class Counter {
    constructor(name, start) {
        this.name = name;
        this.value = start;
    }

    next() {
        return this.value++;
    }

    // Returns this counter, so calls chain: counter.invoke("step").invoke("step").
    step() {
        this.value++;
        return this;
    }
}

let counter = 0;
const local = {
    next() {
        return counter++;
    },
    makeCounter(name, start) {
        return new Counter(name, start || 0);
    },
    // Calls `listener(i)` for i in 1..times and fulfils with the sum of what
    // the listener's promises fulfilled with.
    tick(times, listener) {
        let chain = Q(0);
        for (let i = 1; i <= times; i++) {
            chain = chain.then((sum) => Q(listener(i)).then((answer) => sum + answer));
        }
        return chain;
    },
};

Connection(parentPort, local);
