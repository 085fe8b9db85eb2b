"use strict";

// `npm test`: the Rust core's tests, then the ava suite, then one closing line
// `N passed, N failed` over both (the line CI reads). Exits non-zero when any
// test failed or a step could not run.

const { spawn } = require("child_process");
const path = require("path");

const root = path.join(__dirname, "..");
const target = process.env.CARGO_BUILD_TARGET || `${process.arch === "arm64" ? "aarch64" : "x86_64"}-unknown-linux-gnu`;

/** Runs a command, echoing its output, and resolves with {code, output}. */
function run(command, args) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const echo = (stream) => (chunk) => {
      output += chunk;
      stream.write(chunk);
    };
    child.stdout.on("data", echo(process.stdout));
    child.stderr.on("data", echo(process.stderr));
    child.on("error", (error) => resolve({ code: 127, output: String(error) }));
    child.on("close", (code) => resolve({ code, output }));
  });
}

function sum(output, pattern) {
  let total = 0;
  for (const match of output.matchAll(pattern)) total += Number(match[1]);
  return total;
}

async function main() {
  let passed = 0;
  let failed = 0;
  let broken = false;

  const cargo = await run("cargo", ["test", "--no-default-features", "--target", target]);
  passed += sum(cargo.output, /test result: \w+\. (\d+) passed/g);
  failed += sum(cargo.output, /test result: \w+\. \d+ passed; (\d+) failed/g);
  if (cargo.code !== 0 && !/test result:/.test(cargo.output)) broken = true;

  const types = await run("npx", ["tsc", "-p", "__test__/types/tsconfig.json"]);
  if (types.code === 0) passed += 1;
  else failed += 1;

  const ava = await run("npx", ["ava", "--tap"]);
  passed += sum(ava.output, /^# pass (\d+)$/gm);
  failed += sum(ava.output, /^# fail (\d+)$/gm);
  if (ava.code !== 0 && !/^# fail [1-9]/m.test(ava.output)) {
    // ava failed without counting a failure (a crash, a timeout, no files).
    broken = true;
  }

  if (broken) failed += 1;
  console.log(`\n${passed} passed, ${failed} failed`);
  process.exit(failed > 0 ? 1 : 0);
}

main();
