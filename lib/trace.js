"use strict";

// Message tracing. A connection traces when its `trace` option is a function
// or when the DEBUG environment variable names this library (`DEBUG=q-connection-rs`,
// a comma or space separated list containing it, `q-connection-rs*` or `*`,
// as the `debug` package reads it). When neither, makeTracer returns null and
// the connection installs nothing: tracing then costs no check at all.
//
// Every message is traced as the exact text that crossed the port, with its
// direction ("in" or "out") and the connection's name.

const NAME = "q-connection-rs";
// Longest message text DEBUG prints whole; longer ones are cut with their size.
const PRINT_LIMIT = 2000;

let counter = 0;

/** The connection's name: the `name` option, else "conn#N" counting from 1. */
function connectionName(options) {
  counter++;
  return typeof options.name === "string" && options.name !== "" ? options.name : `conn#${counter}`;
}

/** Whether a DEBUG value enables this library's log. */
function debugEnabled(value) {
  if (typeof value !== "string" || value === "") return false;
  let enabled = false;
  for (const pattern of value.split(/[\s,]+/)) {
    if (pattern === "") continue;
    const negated = pattern[0] === "-";
    const body = negated ? pattern.slice(1) : pattern;
    if (matches(body)) enabled = !negated;
  }
  return enabled;
}

/** `debug` patterns: `*` is any run of characters. */
function matches(pattern) {
  if (!pattern.includes("*")) return pattern === NAME;
  const source = pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*");
  return new RegExp(`^${source}$`).test(NAME);
}

function printDebug(direction, text, name) {
  const shown = typeof text === "string" && text.length > PRINT_LIMIT
    ? `${text.slice(0, PRINT_LIMIT)}... (${text.length} characters)`
    : String(text);
  process.stderr.write(`${NAME} ${name} ${direction === "in" ? "<-" : "->"} ${shown}\n`);
}

function describe(value) {
  try {
    return value instanceof Error ? value.message : String(value);
  } catch (_) {
    return "an unprintable value";
  }
}

/**
 * The tracer of one connection, or null when tracing is off.
 * `onError(error)` receives an Error wrapping a throw of the trace callback
 * (as `cause`); it must not throw. A trace callback's throw never reaches the connection.
 */
function makeTracer(options, name, onError) {
  const hook = typeof options.trace === "function" ? options.trace : null;
  const debug = debugEnabled(process.env.DEBUG);
  if (!hook && !debug) return null;

  function trace(direction, text) {
    if (debug) printDebug(direction, text, name);
    if (!hook) return;
    try {
      hook(direction, text, name);
    } catch (error) {
      // A fresh error: the thrown value may be frozen or not an Error at all.
      const report = new Error(`the trace callback threw: ${describe(error)}`);
      report.cause = error;
      onError(report);
    }
  }

  return {
    /** A port `message` handler that traces, then delivers. */
    inbound(receive) {
      return function tracedReceive(text) {
        trace("in", text);
        receive(text);
      };
    },
    /** Makes the adapted channel trace each message it sends. */
    outbound(channel) {
      const send = channel.send;
      channel.send = function tracedSend(text) {
        trace("out", text);
        return send.call(channel, text);
      };
      return channel;
    },
  };
}

module.exports = { makeTracer, connectionName, debugEnabled, describe };
