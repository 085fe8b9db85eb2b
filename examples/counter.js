'use strict';

// The object the demo's servers share (the worker in counter-worker.js and
// the WebSocket server in demo.js): the seed README's counter, named counters
// (objects passed by reference, so calls on them can be pipelined) and a
// ticker that calls back its caller.

const Q = require('q');

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

/** A fresh root object with its own counter. */
function makeLocal() {
    let counter = 0;
    return {
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
}

module.exports = { Counter, makeLocal };
