"use strict";

// The payload scenario's value: ~1 MB of JSON in records of mixed types
// (strings, numbers, booleans, nested objects and arrays), built the same
// way on every call so every peer serialises the same tree.

const RECORDS = 6800;

function makePayload() {
  const records = [];
  for (let i = 0; i < RECORDS; i++) {
    records.push({
      id: i,
      name: `record number ${i}`,
      active: i % 3 === 0,
      score: i * 1.25,
      tags: ["alpha", "beta", i % 2 ? "odd" : "even"],
      position: { x: i, y: -i, label: `p${i}` },
    });
  }
  return { kind: "bench-payload", records };
}

/** Bytes of the payload as JSON text: the unit of the MB/s figures. */
function payloadBytes() {
  return Buffer.byteLength(JSON.stringify(makePayload()));
}

module.exports = { makePayload, payloadBytes };
