"use strict";

// q-connection-rs: asynchronous remote objects with a Rust engine.
// `Connection(port, local, options)` returns a Q promise for the far side's
// local object, as q-connection 0.6.1 does; see README.md.

const { Connection, open } = require("./lib/connection");
const { Queue } = require("./lib/queue");
const { FarReference } = require("./lib/far-reference");
const native = require("./lib/native");

module.exports = Connection;
Connection.Connection = Connection;
Connection.open = open;
Connection.Queue = Queue;
Connection.FarReference = FarReference;
Connection.listen = native.listen;
Connection.connect = native.connect;
