'use strict';

// Fast paths of the QSON codec (lib/qson.js) for values that are plain JSON
// data, the common case of large payloads.
//
// The general encoder builds a fresh tree (remembering every object and its
// path) that JSON.stringify then writes, and the general decoder rebuilds
// every object JSON.parse made: two extra walks and a copy of the value each
// way, four fifths of the cost of a 1 MB answer (bench/ payload). For data
// that QSON writes exactly as JSON does, one cheap check walk and the
// engine's native JSON.stringify give the same text; for text in which no
// object can be a QSON form, JSON.parse alone gives the decoded value.

var OBJECT_PROTO = Object.prototype;
var ARRAY_PROTO = Array.prototype;
var getPrototypeOf = Object.getPrototypeOf;

/**
 * jsonDataText(value, maxDepth, special) -> string | undefined
 *
 * The text JSON.stringify(encode(value)) would give, when `value` is plain
 * JSON data; undefined otherwise (the caller then takes the general path,
 * which also reports whatever made the value not plain: depth, cycles...).
 * `special` is the codec's encodeSpecial hook, or null.
 *
 * Plain JSON data, for which QSON's tree is the value itself:
 * - strings, booleans, null, finite numbers;
 * - arrays with prototype Array.prototype and no holes, and objects with
 *   prototype Object.prototype or null, each met once (a second meeting is a
 *   {"$": path} in QSON), nested less than `maxDepth`, with no `toJSON`
 *   (which JSON.stringify would call and QSON never does);
 * - whose keys need no QSON escape (none of @ ! % $ / \).
 * Anything else (undefined, NaN, functions, promises, bigints, symbols,
 * class instances, Dates, Errors...) is encoded by QSON in its own way.
 *
 * -0 is data too, but with a `special` hook QSON asks the hook for its tree
 * (the richer-values extension writes {"%":"-0"}): then the arrays and
 * objects on the way to each -0 are copied with the hook's tree in its
 * place, and JSON.stringify writes the copy.
 *
 * Getters on the value run more than once (the check, then JSON.stringify);
 * the text is what the last run returns.
 */
function jsonDataText(value, maxDepth, special) {
    if (typeof value !== 'object' || value === null) {
        return leafKind(value, special) === DATA ? JSON.stringify(value) : undefined;
    }
    if (smallArrayIsData(value, maxDepth, special)) return JSON.stringify(value);
    var walk = newWalk(maxDepth, special, true);
    var kind = dataKind(value, walk, 0);
    if (kind === NOT_DATA) return undefined;
    if (kind === DATA_WITH_NEGATIVE_ZERO) value = rebuild(value, walk);
    return JSON.stringify(value);
}

var NOT_DATA = 0, DATA = 1, DATA_WITH_NEGATIVE_ZERO = 2;

// True for the usual arguments of a call, `[name, [a, b]]`: a plain array
// of data leaves and at most one plain array of data leaves, which no walk
// is needed to check (with one inner array no object can be met twice, so
// there is no `seen` Set to make: ~2 allocations and a third of the check,
// per call). False means only "not this shape": the walk decides then.
function smallArrayIsData(value, maxDepth, special) {
    if (maxDepth < 2 || !Array.isArray(value) || getPrototypeOf(value) !== ARRAY_PROTO || value.toJSON !== undefined) {
        return false;
    }
    var inner = null;
    for (var i = 0; i < value.length; i++) {
        var child = value[i];
        if (typeof child !== 'object' || child === null) {
            if (leafKind(child, special) !== DATA) return false;
        } else if (inner !== null || !Array.isArray(child) || child === value ||
            getPrototypeOf(child) !== ARRAY_PROTO || child.toJSON !== undefined || !leavesAreData(child, special)) {
            return false;
        } else {
            inner = child;
        }
    }
    return true;
}

function leavesAreData(array, special) {
    for (var i = 0; i < array.length; i++) {
        var leaf = array[i];
        if (typeof leaf === 'object' && leaf !== null) return false;
        if (leafKind(leaf, special) !== DATA) return false;
    }
    return true;
}

// The state of one check walk. `text`: the value is to be written as JSON
// text, so keys are checked for QSON escapes and an object met twice is
// not data (QSON writes a {"$": path} there): `seen` holds the objects met.
// Otherwise (a structured clone, which keeps shared objects and cycles, as
// QSON's paths do) neither matters and there is no `seen` (a third of the
// walk's cost): a shared object is walked again, and `objects`, which
// counts the arrays and objects walked, ends a cycle at CLONE_BUDGET.
function newWalk(maxDepth, special, text) {
    return { seen: text ? new Set() : null, maxDepth: maxDepth, special: special, dirty: null, text: text, objects: 0 };
}

var CLONE_BUDGET = 1 << 20;

/**
 * cloneableData(value, maxDepth, negativeZeroIsSpecial) -> number
 *
 * The count of arrays and objects in `value` when a structured clone of it
 * decodes as its QSON text would (lib/extensions/clone.js): plain data as
 * for jsonDataText, where objects may be met twice (the clone keeps shared
 * objects, as QSON's {"$": path} does) and keys need no escape; -1
 * otherwise, and for a cycle or more than CLONE_BUDGET arrays and objects
 * walked (a shared object counts each time), which go as text. `negativeZeroIsSpecial`: -0 must arrive as 0 (0.6.1's
 * QSON), which a clone would not do, so a -0 makes the value not data.
 */
function cloneableData(value, maxDepth, negativeZeroIsSpecial) {
    if (typeof value !== 'object' || value === null) return -1;
    var walk = newWalk(maxDepth, negativeZeroIsSpecial ? true : null, false);
    return dataKind(value, walk, 0) === DATA ? walk.objects : -1;
}

// `special`: the codec's hook, or null (then -0 is plain data).
function leafKind(value, special) {
    switch (typeof value) {
        case 'string':
        case 'boolean':
            return DATA;
        case 'number':
            // NaN and the infinities give NaN here.
            if (value - value !== 0) return NOT_DATA;
            return value === 0 && special !== null && 1 / value < 0 ? DATA_WITH_NEGATIVE_ZERO : DATA;
        default:
            return value === null ? DATA : NOT_DATA;
    }
}

// The kind of the array or object `value`; `depth` counts the arrays and
// objects enclosing it, as the general encoder does. Arrays and objects
// holding a -0 at any depth go into `walk.dirty`.
function dataKind(value, walk, depth) {
    if (depth >= walk.maxDepth) return NOT_DATA;
    var seen = walk.seen;
    if (seen !== null) {
        // One hash operation instead of has() then add().
        var size = seen.size;
        seen.add(value);
        if (seen.size === size) return NOT_DATA;
    } else if (++walk.objects > CLONE_BUDGET) {
        return NOT_DATA;
    }
    // Own or inherited, enumerable or not: JSON.stringify calls it.
    if (value.toJSON !== undefined) return NOT_DATA;
    var kind = DATA, child, childKind;
    if (Array.isArray(value)) {
        if (getPrototypeOf(value) !== ARRAY_PROTO) return NOT_DATA;
        for (var i = 0; i < value.length; i++) {
            child = value[i]; // a hole reads undefined, which is not data
            childKind = typeof child === 'object' && child !== null ?
                dataKind(child, walk, depth + 1) : leafKind(child, walk.special);
            if (childKind !== DATA) {
                if (childKind === NOT_DATA) return NOT_DATA;
                kind = DATA_WITH_NEGATIVE_ZERO;
            }
        }
    } else {
        var proto = getPrototypeOf(value);
        if (proto !== OBJECT_PROTO && proto !== null) return NOT_DATA;
        // for-in (faster than Object.keys here) also visits inherited
        // enumerable keys; checking those too is only stricter.
        for (var key in value) {
            if (walk.text && !keyNeedsNoEscape(key)) return NOT_DATA;
            child = value[key];
            childKind = typeof child === 'object' && child !== null ?
                dataKind(child, walk, depth + 1) : leafKind(child, walk.special);
            if (childKind !== DATA) {
                if (childKind === NOT_DATA) return NOT_DATA;
                kind = DATA_WITH_NEGATIVE_ZERO;
            }
        }
    }
    if (kind === DATA_WITH_NEGATIVE_ZERO) (walk.dirty || (walk.dirty = new Set())).add(value);
    return kind;
}

// A copy of `value` in which each -0 is the special hook's tree (or stays,
// when the hook has none), copying only the dirty arrays and objects, with
// own data properties in the same order (so "__proto__" stays a key).
function rebuild(value, walk) {
    if (typeof value === 'number') {
        if (value !== 0 || 1 / value > 0) return value;
        var tree = walk.special(value, null);
        return tree === undefined ? value : tree;
    }
    if (typeof value !== 'object' || value === null || !walk.dirty.has(value)) return value;
    if (Array.isArray(value)) {
        var array = new Array(value.length);
        for (var i = 0; i < value.length; i++) array[i] = rebuild(value[i], walk);
        return array;
    }
    var copy = {};
    var keys = Object.keys(value);
    for (var k = 0; k < keys.length; k++) {
        Object.defineProperty(copy, keys[k], {
            value: rebuild(value[keys[k]], walk), enumerable: true, writable: true, configurable: true
        });
    }
    return copy;
}

// The characters QSON escapes in a key, as 0.6.1 does: the one definition,
// which lib/qson.js's escapeKey uses too, so both paths escape alike.
var KEY_ESCAPE = /[@!%$/\\]/;
// The same characters by code (all are ASCII).
var ESCAPED = new Uint8Array(128);
for (var code = 0; code < 128; code++) ESCAPED[code] = KEY_ESCAPE.test(String.fromCharCode(code)) ? 1 : 0;

// Keys are short: a loop over their characters costs less than a RegExp
// call per key or a search of the whole text afterwards (bench/: 0.4 ms
// against 2 and 0.6 ms for the 1 MB payload).
function keyNeedsNoEscape(key) {
    for (var i = 0; i < key.length; i++) {
        var c = key.charCodeAt(i);
        if (c < 128 && ESCAPED[c] === 1) return false;
    }
    return true;
}

// What can make a parsed object differ from its QSON decoding: a key (or
// string) that is exactly one of the QSON markers, and any escape, since a
// marker or an escaped key ("\\$") can be written with one.
var MARKER_OR_ESCAPE = /\\|"[$%!@]"/g;
var PATH_OR_ESCAPE = /\\|"\$"/g;

/** What decoding the JSON text needs beyond JSON.parse (see revivalOf). */
var AS_PARSED = 0, REVIVE_FORMS = 1, DECODE_ALL = 2;

/**
 * revivalOf(text) -> AS_PARSED | REVIVE_FORMS | DECODE_ALL
 *
 * AS_PARSED proves decode(JSON.parse(text)) is JSON.parse(text) (up to the
 * copy): no object can be a {"$"}, {"%"}, {"!"} or {"@"} form and no key is
 * escaped. REVIVE_FORMS: some object may be a {"%"}, {"!"} or {"@"} form,
 * but none a {"$"} path and no key is escaped, so the forms can be decoded
 * where they are, without paths. DECODE_ALL otherwise. Strings that merely
 * equal a marker make the answer stricter than needed, never wrong.
 */
function revivalOf(text) {
    MARKER_OR_ESCAPE.lastIndex = 0;
    var match = MARKER_OR_ESCAPE.exec(text);
    if (match === null) return AS_PARSED;
    if (match[0] === '\\' || match[0] === '"$"') return DECODE_ALL;
    PATH_OR_ESCAPE.lastIndex = MARKER_OR_ESCAPE.lastIndex;
    return PATH_OR_ESCAPE.test(text) ? DECODE_ALL : REVIVE_FORMS;
}

module.exports = { jsonDataText, cloneableData, revivalOf, KEY_ESCAPE, AS_PARSED, REVIVE_FORMS, DECODE_ALL };
