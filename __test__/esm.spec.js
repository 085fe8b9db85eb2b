"use strict";

// The package loads both ways: `import` (index.mjs through package.json
// "exports") and `require` (index.js), as one module instance. The fixtures
// import the package by its name, which resolves to this checkout through
// the package's "exports" (self-reference), as it would for a user.

const test = require("ava");
const path = require("path");
const { execFile } = require("child_process");

const root = path.join(__dirname, "..");
const fixtures = path.join(__dirname, "fixtures");

function run(command, args) {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: root, timeout: 120000 }, (error, stdout, stderr) => {
      resolve({ code: error ? error.code || 1 : 0, stdout, stderr });
    });
  });
}

test("import from an .mjs file: default and named exports, one instance with require", async (t) => {
  const result = await run(process.execPath, [path.join(fixtures, "esm-consumer.mjs")]);
  t.is(result.code, 0, result.stderr);
  const found = JSON.parse(result.stdout);
  t.is(found.sum, 5);
  t.true(found.sameAsRequire);
  t.true(found.namedIsDefault);
  t.true(found.openIsSame);
  t.true(found.queueWorks);
  t.true(found.farReference);
  const cjs = require("../index.js");
  const expected = ["default", "Connection", "FarReference", "Queue", "open"];
  for (const name of ["connect", "listen"]) if (typeof cjs[name] === "function") expected.push(name);
  t.deepEqual(found.names, expected.sort());
});

test("require by package name resolves to index.js", (t) => {
  t.is(require.resolve("q-connection-rs"), path.join(root, "index.js"));
  t.is(require("q-connection-rs"), require("../index.js"));
});

test("the ESM entry type-checks under module node16", async (t) => {
  const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc");
  const result = await run(process.execPath, [
    tsc, "--noEmit", "--strict", "--module", "node16", "--moduleResolution", "node16",
    "--target", "es2022", "--types", "node", path.join(fixtures, "esm-types.mts"),
  ]);
  t.is(result.code, 0, result.stdout + result.stderr);
});
