'use strict';

// The far objects of the pipelining specs: a chain of dependent calls
// (`start().next()...value()`) and a log that records the order of pushes.

class Chain {
    constructor(n) {
        this.n = n;
    }
    next() {
        return new Chain(this.n + 1);
    }
    value() {
        return this.n;
    }
}

/** Records the order in which pushes arrive. */
class Log {
    constructor() {
        this.items = [];
    }
    push(item) {
        this.items.push(item);
        return this.items.length;
    }
    list() {
        return this.items.slice();
    }
}

/** 5 dependent calls on a root with `start`: resolves to 3. */
const chain = (remote) => remote.invoke('start').invoke('next').invoke('next').invoke('next').invoke('value');

module.exports = { Chain, Log, chain };
