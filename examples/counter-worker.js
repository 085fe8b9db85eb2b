'use strict';

// A worker thread serving the demo's counter object (examples/counter.js) to
// its parent.

const { parentPort } = require('worker_threads');
const Connection = require('..');
const { makeLocal } = require('./counter');

Connection(parentPort, makeLocal());
