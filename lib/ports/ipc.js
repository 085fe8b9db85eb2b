'use strict';

// Node's IPC channel: a child from child_process.fork() (or any child
// spawned with an 'ipc' stdio), and `process` inside such a child. Messages
// go through send() and arrive on 'message'.
//
// Node keeps the IPC channel, and so the process, alive while 'message' or
// 'disconnect' listeners exist; removing ours on close lets it exit.

// A killed or crashed child disconnects a moment before its 'exit'; the
// disconnect waits this long for the exit code, the better cause. On a
// loaded 2-core machine the exit was seen more than 50 ms after the disconnect.
var DISCONNECT_THEN_EXIT_MS = 250;

// Write errors that mean the child's end of the channel is gone.
var BROKEN_CHANNEL = ['EPIPE', 'ECONNRESET', 'ERR_IPC_CHANNEL_CLOSED'];

function exitError(code, signal) {
    return new Error(signal ?
        'child process killed by ' + signal :
        'child process exited with code ' + code);
}

function sendIfConnected(port) {
    // Sending on a closed channel emits 'error'; the close is already known
    // (or about to be, through 'disconnect'), so the text is dropped.
    return function (text) {
        if (port.connected) port.send(text);
    };
}

function disconnect(port) {
    return function () {
        if (port.connected) port.disconnect();
    };
}

/**
 * A ChildProcess with an IPC channel. Closed on 'exit' ("child process
 * exited with code N" / "child process killed by SIGNAL"), on 'disconnect'
 * ("child process disconnected" when no exit follows within 250 ms) and on
 * 'error'. close() disconnects the channel; the child is not killed (its
 * owner decides its lifetime) but, as a child of ours, it sees 'disconnect'.
 */
function adaptChildProcess(port, options, link) {
    link.on('message', function (message) { link.deliver(message); });
    link.on('exit', function (code, signal) { link.finish(exitError(code, signal)); });
    // A dying child shows first as a disconnect, or as a write that fails
    // (EPIPE); either waits a moment for the exit, the better cause.
    function awaitExit(cause) {
        if (port.exitCode !== null || port.signalCode !== null) {
            link.finish(exitError(port.exitCode, port.signalCode));
            return;
        }
        link.later(DISCONNECT_THEN_EXIT_MS, function () { link.finish(cause); });
    }
    link.on('error', function (error) {
        if (error && BROKEN_CHANNEL.indexOf(error.code) !== -1) awaitExit(error);
        else link.finish(error);
    });
    link.on('disconnect', function () {
        awaitExit(new Error('child process disconnected'));
    });
    if (!port.connected) {
        queueMicrotask(function () {
            link.finish(port.exitCode !== null || port.signalCode !== null ?
                exitError(port.exitCode, port.signalCode) :
                new Error('child process disconnected'));
        });
    }
    return { send: sendIfConnected(port), close: disconnect(port) };
}

/**
 * `process` inside a forked child: closed on 'disconnect' ("IPC channel to
 * the parent closed": the parent disconnected, closed its connection or
 * died). close() disconnects, which the parent sees as 'disconnect'.
 */
function adaptProcess(port, options, link) {
    link.on('message', function (message) { link.deliver(message); });
    link.on('disconnect', function () {
        link.finish(new Error('IPC channel to the parent closed'));
    });
    if (!port.connected) {
        queueMicrotask(function () {
            link.finish(new Error('IPC channel to the parent closed'));
        });
    }
    return { send: sendIfConnected(port), close: disconnect(port) };
}

module.exports = { adaptChildProcess: adaptChildProcess, adaptProcess: adaptProcess };
