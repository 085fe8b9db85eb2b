'use strict';

// What every port family shares: the link between one port and its sink.
// A family adds its listeners through the link, which removes them all when
// the port closes, and reports a close at most once.

function noop() {}

// A close cause as an Error: an Error passes through; anything else is
// wrapped, keeping the original as `cause`.
function toError(reason, fallback) {
    if (reason instanceof Error) {
        return reason;
    }
    if (reason === undefined || reason === null) {
        return new Error(fallback);
    }
    var error = new Error(typeof reason === 'object' && typeof reason.message === 'string' ?
        reason.message : String(reason));
    error.cause = reason;
    return error;
}

// Listens to event `name` on an EventEmitter (handler gets the emitted
// arguments), else an EventTarget (handler gets the event), else an
// `on<name>` property (handler gets the event). Returns the remover.
function listen(target, name, onArgs, onEvent) {
    if (typeof target.on === 'function') {
        target.on(name, onArgs);
        return function () {
            var off = typeof target.off === 'function' ? target.off : target.removeListener;
            if (typeof off === 'function') off.call(target, name, onArgs);
        };
    }
    if (typeof target.addEventListener === 'function') {
        target.addEventListener(name, onEvent, false);
        return function () {
            if (typeof target.removeEventListener === 'function') {
                target.removeEventListener(name, onEvent, false);
            }
        };
    }
    var property = 'on' + name;
    target[property] = onEvent;
    return function () {
        if (target[property] === onEvent) target[property] = null;
    };
}

/**
 * Link(port, sink): the state one adapter shares with its family.
 *
 * `done` turns true once the port is closed, from either side; after that
 * nothing more is delivered or sent. finish(error) reports a close from the
 * port's side: it removes every listener and teardown, then calls
 * sink.closed(error), only the first time.
 */
function Link(port, sink) {
    this.port = port;
    this.sink = sink;
    this.done = false;
    this.teardowns = [];
}

Link.prototype.deliver = function (data) {
    if (!this.done) this.sink.message(data);
};

Link.prototype.finish = function (error) {
    if (this.done) return;
    this.done = true;
    this.teardown();
    this.sink.closed(error);
};

// Listens on the port itself, or on `target` when the port is made of
// several objects (a stream pair). The listener is removed on close.
Link.prototype.on = function (name, onArgs, onEvent, target) {
    this.teardowns.push(listen(target || this.port, name, onArgs, onEvent || onArgs));
};

// Runs `undo` when the link closes (restoring a patched method, ...).
Link.prototype.onTeardown = function (undo) {
    this.teardowns.push(undo);
};

// Calls `then` after `ms` unless the link closes first. The timer is unref'd:
// waiting for a close to be confirmed never keeps the process alive.
Link.prototype.later = function (ms, then) {
    var timer = setTimeout(then, ms);
    if (typeof timer.unref === 'function') timer.unref();
    this.onTeardown(function () { clearTimeout(timer); });
};

Link.prototype.teardown = function () {
    var list = this.teardowns;
    this.teardowns = [];
    list.forEach(function (undo) { undo(); });
};

module.exports = { Link: Link, listen: listen, toError: toError, noop: noop };
