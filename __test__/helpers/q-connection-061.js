'use strict';

// Loads the real q-connection 0.6.1 for the specs: { Connection, adapt, Q }
// (Q is the q 0.9.7 that 0.6.1 makes its promises with).
//
// 0.6.1 depends on collections@0.1, whose shims replace ES built-ins for the
// whole process. Its Array.from ignores the map function, which breaks ava's
// failure reports: a failing assertion then hangs the test instead of printing
// a diff. Neither collections nor 0.6.1 calls Array.from, so the standard one
// is put back; the other shims stay, as 0.6.1 needs them. Because of them,
// the helpers load this module only when a 0.6.1 endpoint is asked for, so
// that specs of q-connection-rs alone run in a clean realm.

const standardFrom = Array.from;
const Connection = require('q-connection');
const adapt = require('q-connection/adapt');
const Q = require('q-connection/node_modules/q');
Array.from = standardFrom;

module.exports = { Connection, adapt, Q };
