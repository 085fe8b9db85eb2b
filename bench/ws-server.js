"use strict";

// The child process serving the ws scenarios: one server per peer of
// bench/ws-peers.js on 127.0.0.1, their ports sent to the parent over IPC.
// Exits when the parent disconnects.

const { wsPeers } = require("./ws-peers");
const { makeApi } = require("./peers");

async function main() {
  const api = makeApi();
  const ports = {};
  for (const [name, peer] of Object.entries(wsPeers)) ports[name] = await peer.server(api);
  process.send({ ports });
  process.on("disconnect", () => process.exit(0));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
