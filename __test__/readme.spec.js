"use strict";

// Every code block of README.md runs here, so the docs cannot rot.
//
// - ```js and ```mjs blocks run as programs in a child process, from a
//   scratch directory whose node_modules/q-connection-rs links to this
//   package (so `require("q-connection-rs")` and `import` resolve as they do
//   for a user). Each must exit 0 by itself; a line ending in
//   `// prints: TEXT` says that TEXT is the next line the block writes to
//   stdout, and stdout must be exactly those lines, in order.
// - ```ts blocks are type-checked together with tsc (strict).
// - Relative links must name files that exist, `npm run X` a script, and
//   every ConnectionOptions key of index.d.ts a row of the options table.
// - ```js norun (or ```ts norun) marks a block that is not runnable on its
//   own; keep those rare. Other languages (sh, text) are not code to run.

const test = require("ava");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { execFile } = require("child_process");

const root = path.join(__dirname, "..");
const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");

/** Fenced blocks: { lang, flags, code, line } in file order. */
function extractBlocks(markdown) {
  const blocks = [];
  const fence = /^```(\w*)([^\n]*)\n([\s\S]*?)^```\s*$/gm;
  let match;
  while ((match = fence.exec(markdown))) {
    const line = markdown.slice(0, match.index).split("\n").length;
    blocks.push({ lang: match[1], flags: match[2].trim().split(/\s+/).filter(Boolean), code: match[3], line });
  }
  return blocks;
}

function expectedOutput(code) {
  const lines = [];
  for (const match of code.matchAll(/\/\/ prints: (.*)$/gm)) lines.push(match[1].trimEnd());
  return lines;
}

function run(command, args, options) {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 30000, ...options }, (error, stdout, stderr) => {
      resolve({ code: error ? error.code || error.signal || 1 : 0, stdout, stderr });
    });
  });
}

// One scratch directory for all blocks, a user's project in miniature.
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "qcrs-readme-"));
fs.mkdirSync(path.join(scratch, "node_modules"));
fs.symlinkSync(root, path.join(scratch, "node_modules", "q-connection-rs"), "dir");
test.after.always(() => fs.rmSync(scratch, { recursive: true, force: true }));

const blocks = extractBlocks(readme);
const runnable = blocks.filter((b) => (b.lang === "js" || b.lang === "mjs") && !b.flags.includes("norun"));
const typed = blocks.filter((b) => b.lang === "ts" && !b.flags.includes("norun"));

test("the README has runnable blocks, and few marked norun", (t) => {
  t.true(runnable.length >= 2);
  const skipped = blocks.filter((b) => b.flags.includes("norun")).length;
  t.true(skipped <= 2, `${skipped} blocks are marked norun`);
});

test("every relative link and image of the README names a file in the repository", (t) => {
  const targets = [...readme.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((m) => m[1]).filter((href) => !/^[a-z]+:/i.test(href));
  t.true(targets.length > 0);
  for (const target of targets) t.true(fs.existsSync(path.join(root, target)), `${target} is missing`);
});

test("every option of ConnectionOptions in index.d.ts has a row in the README's options table", (t) => {
  const types = fs.readFileSync(path.join(root, "index.d.ts"), "utf8");
  const body = types.match(/export interface ConnectionOptions \{([\s\S]*?)\n  \}/)[1];
  const names = [...body.matchAll(/^    (\w+)\??:/gm)].map((m) => m[1]);
  t.true(names.length >= 10);
  for (const name of names) t.true(readme.includes(`| \`${name}`), `option ${name} is not in the README`);
});

test("every `npm run` script the README mentions exists", (t) => {
  const { scripts } = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
  for (const [, name] of readme.matchAll(/npm run ([\w:-]+)/g)) t.truthy(scripts[name], `npm run ${name}`);
});

for (const block of runnable) {
  test(`README.md line ${block.line}: the ${block.lang} block runs`, async (t) => {
    const file = path.join(scratch, `block-${block.line}.${block.lang === "mjs" ? "mjs" : "js"}`);
    fs.writeFileSync(file, block.code);
    const result = await run(process.execPath, [file], {
      cwd: scratch,
      env: { ...process.env, NODE_PATH: path.join(root, "node_modules"), DEBUG: "" },
    });
    t.is(result.code, 0, result.stderr);
    const printed = result.stdout.split("\n").filter((line, i, all) => line !== "" || i < all.length - 1);
    t.deepEqual(printed, expectedOutput(block.code));
  });
}

if (typed.length) {
  test("README.md: the ts blocks type-check", async (t) => {
    const files = typed.map((block) => {
      const file = path.join(scratch, `block-${block.line}.ts`);
      // Each block is its own module, so names may repeat across blocks.
      fs.writeFileSync(file, block.code + "\nexport {};\n");
      return file;
    });
    const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc");
    const result = await run(process.execPath, [
      tsc, "--noEmit", "--strict", "--module", "commonjs", "--target", "es2020",
      "--esModuleInterop", "--types", "node", "--typeRoots", path.join(root, "node_modules", "@types"),
      ...files,
    ], { cwd: scratch, timeout: 120000 });
    t.is(result.code, 0, result.stdout + result.stderr);
  });
}
