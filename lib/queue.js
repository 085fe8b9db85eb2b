'use strict';

// An indefinite asynchronous queue of Q promises, as in q's `q/queue`:
// values come out of get() in the order they went into put(), and a get()
// may come before or after the put() that answers it.

var Q = require('q');

/**
 * Queue() -> { get, put, close, closed }
 *
 * get() -> Q promise for the next value put, in order. After close(reason),
 *   values put before the close are still given out first; then every
 *   pending and every later get() is rejected with that reason.
 * put(value): enqueues `value` (a value put after close is never delivered).
 *   A thenable value is adopted by the promise get() returns, as in q.
 * close(reason?) -> `closed`. The default reason is
 *   Error("Can't get value from closed queue"). Only the first close counts.
 * closed: Q promise fulfilled with the close reason as soon as close() is
 *   called (q's own queue only fulfils it once a get() sees the closure).
 *   A thenable reason would be adopted; pass an Error.
 */
function Queue() {
    // Values put and not yet taken, and gets waiting for a value; at most
    // one of the two is non-empty at any time. Both are FIFO arrays with a
    // moving head so that taking is O(1).
    var values = [];
    var valuesHead = 0;
    var waiting = [];
    var waitingHead = 0;
    var closedDeferred = Q.defer();
    var closeReason = null;
    var isClosed = false;

    function put(value) {
        if (isClosed) {
            return;
        }
        if (waitingHead < waiting.length) {
            var deferred = waiting[waitingHead];
            waiting[waitingHead++] = undefined;
            compact();
            deferred.resolve(value);
        } else {
            values.push(value);
        }
    }

    function get() {
        if (valuesHead < values.length) {
            var value = values[valuesHead];
            values[valuesHead++] = undefined;
            compact();
            return Q(value);
        }
        if (isClosed) {
            return Q.reject(closeReason);
        }
        var deferred = Q.defer();
        waiting.push(deferred);
        return deferred.promise;
    }

    function close(reason) {
        if (!isClosed) {
            isClosed = true;
            closeReason = reason === undefined ?
                new Error("Can't get value from closed queue") : reason;
            // Values already put stay readable ahead of the rejection, as in
            // q's queue, where close() appends the rejecting end after them.
            var pending = waiting.slice(waitingHead);
            waiting = [];
            waitingHead = 0;
            pending.forEach(function (deferred) {
                deferred.reject(closeReason);
            });
            closedDeferred.resolve(closeReason);
        }
        return closedDeferred.promise;
    }

    // Drops the consumed prefix once it is at least half of an array.
    function compact() {
        if (valuesHead > 32 && valuesHead * 2 >= values.length) {
            values = values.slice(valuesHead);
            valuesHead = 0;
        }
        if (waitingHead > 32 && waitingHead * 2 >= waiting.length) {
            waiting = waiting.slice(waitingHead);
            waitingHead = 0;
        }
    }

    return {
        get: get,
        put: put,
        close: close,
        closed: closedDeferred.promise
    };
}

module.exports = Queue;
module.exports.Queue = Queue;
