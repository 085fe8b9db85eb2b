'use strict';

// Every scenario of helpers/scenarios.js over real WebSockets on 127.0.0.1,
// with the native Rust transport: our client against our server, our server
// serving q-connection 0.6.1 on a `ws` client, and our client calling 0.6.1
// behind a `ws` server.

const test = require('ava');
const { nativeTransport } = require('./helpers/native-peers');
const { register } = require('./helpers/scenarios');

const transport = nativeTransport();
test.after.always(() => transport.dispose());
register(test, transport);
register(test, transport, { impl: 'rs', caller: '0.6.1' });
register(test, transport, { impl: '0.6.1', caller: 'rs' });
