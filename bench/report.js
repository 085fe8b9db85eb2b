"use strict";

// Renders bench results (see index.js for their shape) as a console table,
// a Markdown page (bench/results.md) and a hand-written SVG bar chart
// (docs/bench.svg).

const RS = "q-connection-rs";
const OLD = "q-connection 0.6.1";
const RAW = "raw echo";
const JSON_BASE = "JSON in-process";

const ROWS = [
  { scenario: "port-seq", unit: "calls/s", higher: true, goal: "≥ 0.9× raw (#2: ≥ 0.7× raw)", base: RAW, target: 0.9 },
  { scenario: "port-flight", unit: "calls/s", higher: true, goal: "≥ 0.5× raw (#2: ≥ 4× 0.6.1)", base: RAW, target: 0.5 },
  { scenario: "ws-seq", unit: "calls/s", higher: true, goal: "≥ 1.0× raw ws echo", base: RAW, target: 1.0 },
  { scenario: "ws-flight", unit: "calls/s", higher: true, goal: "≥ 1.0× raw ws echo", base: RAW, target: 1.0 },
  { scenario: "chain", unit: "round trips", higher: false, goal: "≤ 1.05 round trips", base: null, target: 1.05 },
  { scenario: "payload", unit: "MB/s", higher: true, goal: "≥ 0.8× JSON in-process", base: JSON_BASE, target: 0.8 },
];

function format(value) {
  if (value === undefined || value === null || Number.isNaN(value)) return "—";
  return value >= 100 ? Math.round(value).toLocaleString("en-US") : value.toFixed(2);
}

function ratio(a, b) {
  return a !== undefined && b !== undefined && b !== 0 ? a / b : undefined;
}

/** One table row per scenario measured, with ratios and whether the goal is met. */
function tableRows(results) {
  const rows = [];
  for (const row of ROWS) {
    const figures = results.medians[row.scenario];
    if (!figures) continue;
    const rs = figures[RS];
    const others = results.peers.filter((p) => p !== RS && p !== RAW && figures[p] !== undefined);
    const best = others.length ? (row.higher ? Math.max : Math.min)(...others.map((p) => figures[p])) : undefined;
    const score = row.base ? ratio(rs, figures[row.base]) : rs;
    const met = score === undefined ? undefined : row.higher ? score >= row.target : score <= row.target;
    rows.push({
      ...row,
      cells: results.peers.map((p) => format(figures[p])),
      json: format(figures[JSON_BASE]),
      vsRaw: format(ratio(rs, figures[RAW])),
      vsOld: format(ratio(rs, figures[OLD])),
      vsBest: format(ratio(rs, best)),
      met: met === undefined ? "—" : met ? "yes" : "no",
    });
  }
  return rows;
}

function markdownTable(header, rows) {
  const line = (cells) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

function mainTable(results) {
  const header = ["scenario", "unit", ...results.peers, JSON_BASE, "rs ÷ raw", "rs ÷ 0.6.1", "rs ÷ best peer", "goal", "met"];
  const rows = tableRows(results).map((r) => [
    r.scenario, r.unit, ...r.cells, r.json, r.vsRaw, r.vsOld, r.vsBest, r.goal, r.met,
  ]);
  return markdownTable(header, rows);
}

function memoryTable(results) {
  if (!results.memory.length) return "";
  const mb = (bytes) => (bytes / 1048576).toFixed(1);
  const rows = results.memory.map((m) => [
    m.peer,
    m.calls.toLocaleString("en-US"),
    mb(m.rssBefore),
    mb(m.rssAfter),
    Math.round((m.rssAfter - m.rssBefore) / Math.max(1, m.calls)).toLocaleString("en-US"),
    m.stats ? String(m.stats.exports) : "—",
    m.stats && m.stats.peakExports !== undefined ? m.stats.peakExports.toLocaleString("en-US") : "—",
    m.stats ? String(m.stats.questions) : "—",
    m.stats ? String(m.stats.slots) : "—",
    m.seconds.toFixed(1),
    m.error ? `stopped: ${m.error}` : "",
  ]);
  return markdownTable(
    ["memory: calls passing a callback", "calls", "RSS before (MB)", "RSS after (MB)", "growth (bytes/call)", "exports", "peak exports", "questions", "slots", "seconds", "note"],
    rows
  );
}

function machineLine(results) {
  const m = results.machine;
  return `${m.cpu}, ${m.cores} cores, Node ${m.node}, ${m.date.slice(0, 16).replace("T", " ")} UTC; ` +
    `medians of ${m.rounds} interleaved round(s) of ${m.ms} ms per measurement`;
}

function renderConsole(results) {
  return [machineLine(results), "", mainTable(results), "", memoryTable(results)].join("\n");
}

function renderMarkdown(results) {
  return `# Benchmark results

Written by \`npm run bench\` (bench/index.js); do not edit by hand.

${machineLine(results)}.

${mainTable(results)}

${memoryTable(results)}

- **port-seq / port-flight**: main thread ↔ worker thread over a \`MessageChannel\`;
  \`add(i, 1)\` awaited one at a time, or in waves of 10,000 in flight.
- **ws-seq / ws-flight**: the same calls over a WebSocket on 127.0.0.1 to a server in a child
  process: q-connection-rs over its native transport (\`Connection.listen\`/\`connect\`), the
  others over the \`ws\` module (birpc with JSON text); Comlink has no WebSocket transport.
- **chain**: 5 dependent calls (each on the object the previous call returned) over a
  channel that delays every message by 20 ms, in round trips of 40 ms; lower is better.
  birpc cannot return objects, so its chain is 5 calls each taking the previous result.
  The raw echo's chain is one echo: the physical floor.
- **payload**: a call returning ~1 MB (as JSON text) of records; MB/s of that JSON text.
  The in-process baseline is \`JSON.parse(JSON.stringify(value))\` in one thread.
- **raw echo**: no RPC layer; the same JSON message shape as a q-connection call, parsed on
  both sides, answers matched by id.
- **memory**: a fresh process per peer, server in a worker thread, waves of 1,000 calls in
  flight each passing a fresh callback; RSS after a full GC in both threads, after a warm-up
  of 5% of the calls (at most 50,000) and after the calls. *peak exports*: the most callbacks the client held
  exported at once (reference release, docs/PROTOCOL-EXTENSIONS.md). q-connection 0.6.1 keeps every exported callback, so it runs at most
  100,000 calls.
`;
}

// ---- SVG ----

const COLORS = { [RS]: "#d9480f", [RAW]: "#495057", [JSON_BASE]: "#868e96" };
const PEER_COLOR = "#4c6ef5";

function escapeXml(text) {
  return String(text).replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]);
}

/** Horizontal bars, one panel per scenario, each bar scaled to its panel's largest figure. */
function renderSvg(results) {
  const width = 760, labelWidth = 150, barMax = 480, barHeight = 16, gap = 4;
  const parts = [];
  let y = 34;
  parts.push(`<text x="12" y="22" font-size="16" font-weight="bold">q-connection-rs benchmark</text>`);
  for (const row of ROWS) {
    const figures = results.medians[row.scenario];
    if (!figures) continue;
    const names = [...results.peers, ...(figures[JSON_BASE] !== undefined ? [JSON_BASE] : [])]
      .filter((p) => figures[p] !== undefined);
    const max = Math.max(...names.map((p) => figures[p]));
    y += 18;
    const note = row.higher ? "higher is better" : "lower is better";
    parts.push(`<text x="12" y="${y}" font-size="13" font-weight="bold">${escapeXml(row.scenario)} <tspan font-weight="normal" fill="#555">(${escapeXml(row.unit)}, ${note})</tspan></text>`);
    y += 6;
    for (const name of names) {
      const length = Math.max(1, (figures[name] / max) * barMax);
      const color = COLORS[name] || PEER_COLOR;
      parts.push(
        `<text x="${labelWidth - 6}" y="${y + barHeight - 4}" font-size="12" text-anchor="end">${escapeXml(name)}</text>`,
        `<rect x="${labelWidth}" y="${y}" width="${length.toFixed(1)}" height="${barHeight}" fill="${color}"/>`,
        `<text x="${(labelWidth + length + 4).toFixed(1)}" y="${y + barHeight - 4}" font-size="11">${escapeXml(format(figures[name]))}</text>`
      );
      y += barHeight + gap;
    }
  }
  y += 16;
  parts.push(`<text x="12" y="${y}" font-size="11" fill="#555">${escapeXml(machineLine(results))}</text>`);
  y += 10;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="sans-serif">
<rect width="100%" height="100%" fill="#fff"/>
${parts.join("\n")}
</svg>
`;
}

module.exports = { renderConsole, renderMarkdown, renderSvg };
