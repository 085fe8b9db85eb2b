'use strict';

// QSON: the value encoding of the Q-Connection wire, byte-compatible with
// q-connection 0.6.1 (see /work/shared/PROTOCOL.md, "QSON").
//
// `encode(value)` returns a JSON-able tree; JSON.stringify of that tree is the
// text 0.6.1 would put on the wire for the same value, with these documented
// deviations (all of which a 0.6.1 peer decodes without trouble):
//
// - An object whose prototype is `null` (Object.create(null)) is copied like a
//   plain object. 0.6.1 sends it by reference, because it tests
//   `object.constructor === Object`.
// - "Plain" is decided by the prototype alone (Object.prototype or null), so a
//   plain object with an own `constructor` key is copied too (0.6.1 sends it by
//   reference). We never read `constructor`, so no user getter runs for it.
// - An own `__proto__` key is sent as an ordinary key. 0.6.1 assigns it, which
//   sets the prototype of its scratch object, so the key vanishes from its
//   wire text.
// - A hole in a sparse array is written as `null`; that is also what
//   JSON.stringify makes of the hole 0.6.1 leaves, so the text is the same.
//
// `decode(tree)` is the inverse, as 0.6.1, with these changes:
//
// - A truthy {"!": reason} decodes `reason` too (0.6.1 rejects with the raw
//   tree); a decoded plain object with string `message` and `stack` becomes a
//   real Error carrying them and its other own properties.
// - Every decoded object, including imported references and rejections, is
//   remembered at its path, so {"$": path} to a reference (which 0.6.1 sends
//   for a function seen twice) gives the same value back; 0.6.1 gives
//   `undefined` there.
// - Keys become own data properties (Object.defineProperty), so a wire key
//   "__proto__" never changes a prototype.
// - Nesting is limited (option `maxDepth`, default 1000) in both directions;
//   deeper input throws RangeError("QSON nesting deeper than <maxDepth>")
//   instead of overflowing the stack.

var Q = require('q');
var fast = require('./qson-text');

var DEFAULT_MAX_DEPTH = 1000;

var hasOwn = Object.prototype.hasOwnProperty;

// The first occurrence of any of these characters in a key is escaped with a
// backslash, exactly as 0.6.1 does (only the first: its regexp has no /g).
var ESCAPE = fast.KEY_ESCAPE;
var UNESCAPE = /\\([\\!@%$/])/;

// Most keys hold none of these characters; testing first skips the
// replace machinery (bench/: a tenth of encoding a large value).
function escapeKey(key) {
    if (!ESCAPE.test(key)) return key;
    return key.replace(ESCAPE, function (c) { return '\\' + c; });
}

function unescapeKey(key) {
    if (key.indexOf('\\') === -1) return key;
    return key.replace(UNESCAPE, function (_, c) { return c; });
}

// Defines `key` as an own enumerable, writable, configurable data property,
// so that no setter (notably Object.prototype.__proto__) ever runs.
function setOwn(object, key, value) {
    // A key found nowhere on the prototype chain has no setter to run, and
    // assignment then makes exactly that property, several times faster
    // than defineProperty (bench/: the largest cost of large values).
    if (!(key in object)) {
        object[key] = value;
        return;
    }
    Object.defineProperty(object, key, {
        value: value,
        enumerable: true,
        writable: true,
        configurable: true
    });
}

function own(object, key) {
    return hasOwn.call(object, key) ? object[key] : undefined;
}

function isObject(value) {
    return value !== null && (typeof value === 'object' || typeof value === 'function');
}

// True for objects copied by value: prototype Object.prototype or null.
function isPlain(value) {
    var proto = Object.getPrototypeOf(value);
    return proto === Object.prototype || proto === null;
}

// The stack an Error crosses with under `stacks: false`: its first line only.
function stackless(error) {
    var name = typeof error.name === 'string' ? error.name : 'Error';
    return error.message ? name + ': ' + error.message : name;
}

function ignore() {}

// A rejection decoded inside a value (depth > 0: an argument, a property) is
// data its receiver may never look at; it is marked handled, so that a peer
// cannot raise 'unhandledRejection' events (fatal in many processes) at
// will. A top-level one is an answer itself and stays for its caller.
function wireRejection(reason, depth) {
    var promise = Q.reject(reason);
    if (depth > 0) promise.then(undefined, ignore);
    return promise;
}

function depthError(maxDepth) {
    return new RangeError('QSON nesting deeper than ' + maxDepth);
}

/**
 * makeCodec(hooks, options?) -> { encode(value) -> tree, decode(tree) -> value }
 *
 * hooks.exportValue(value, type) -> id string. Called, during encode, for each
 *   function, Q promise and non-plain object (and each object accepted by
 *   isPassByReference) the first time it is met in the value; `type` is
 *   `typeof value`. The codec writes {"@": id, "type": type}.
 * hooks.isPassByReference(value) -> boolean, optional. Called for every
 *   object not seen before in the value; true sends it by reference even if it
 *   is plain or an array (used for far references).
 * hooks.importReference(id, type) -> value. Called, during decode, for each
 *   truthy {"@": id}; its result is the decoded value (for type "function" the
 *   caller builds the function).
 * options.maxDepth: nesting limit of arrays/objects, default 1000.
 * options.stacks: false sends each Error's stack as its first line only.
 * options.plainIsCopied: true promises that isPassByReference never claims
 *   a plain object or an array, so encodeText may copy plain JSON data
 *   without asking it (without isPassByReference this always holds).
 *
 * encodeText(value) -> JSON.stringify(encode(value)), faster for plain JSON
 * data (lib/qson-text.js). decodeText(text, revival?) -> decode(JSON.parse(text)),
 * faster when the text holds no QSON form (`revival`: what revivalOf(text)
 * would answer, when the caller knows it already); it throws JSON.parse's
 * SyntaxError on bad text, and relies on the text's nesting having been
 * limited already (the engine refuses deeper messages) when it holds no
 * QSON form, since then no walk counts it.
 *
 * encode throws whatever a getter, a hook or the depth limit throws; the
 * caller catches (0.6.1 answers such a failure with a rejection). encode never
 * calls toJSON and returns only fresh plain objects, arrays and primitives.
 * decode expects a tree as made by JSON.parse; it throws only the depth
 * RangeError or what a hook throws.
 */
function makeCodec(hooks, options) {
    if (!hooks || typeof hooks.exportValue !== 'function' ||
        typeof hooks.importReference !== 'function') {
        throw new TypeError('makeCodec needs hooks {exportValue, importReference}');
    }
    var maxDepth = options && options.maxDepth !== undefined ?
        options.maxDepth : DEFAULT_MAX_DEPTH;
    // `stacks: false` keeps stack traces (file paths, code layout) off the
    // wire; the Error still arrives as an Error, with a one-line stack.
    var keepStacks = !(options && options.stacks === false);
    var byReference = typeof hooks.isPassByReference === 'function' ?
        hooks.isPassByReference : function () { return false; };
    // Optional richer encodings (lib/extensions/values.js): `encodeSpecial`
    // (value, encodeChild(child, pathSuffix)) returns a tree or undefined to
    // fall back to 0.6.1's; it sees bigints, -0, Errors and non-plain
    // objects. `decodeSpecial`(tree, decodeChild, remember) decodes a {"%"}
    // form 0.6.1 does not know, or returns undefined.
    var special = typeof hooks.encodeSpecial === 'function' ? hooks.encodeSpecial : null;
    var plainIsCopied = typeof hooks.isPassByReference !== 'function' ||
        Boolean(options && options.plainIsCopied);
    var decodeSpecial = typeof hooks.decodeSpecial === 'function' ? hooks.decodeSpecial : null;

    function reference(value) {
        // `encodeSpecial` may name a reference differently (a reference sent
        // back to the side that owns it); it gets no encodeChild here.
        var tree = special ? special(value, null) : undefined;
        if (tree !== undefined) return tree;
        var type = typeof value;
        return { '@': hooks.exportValue(value, type), 'type': type };
    }

    // `memo` maps each object already met to the path where it was first met;
    // `depth` counts the arrays/objects enclosing `value`.
    function encodeValue(value, memo, path, depth) {
        if (value === undefined) {
            return { '%': 'undefined' };
        }
        if (!isObject(value)) {
            if (typeof value === 'number') {
                if (value === Infinity) return { '%': '+Infinity' };
                if (value === -Infinity) return { '%': '-Infinity' };
                if (value !== value) return { '%': 'NaN' };
            }
            if (special && (typeof value === 'bigint' || (value === 0 && 1 / value < 0))) {
                var primitive = special(value, null);
                if (primitive !== undefined) return primitive;
            }
            // -0 stays -0; JSON writes it "0", as on 0.6.1's wire.
            return value;
        }
        if (memo.has(value)) {
            return { '$': memo.get(value) };
        }
        // Remembered before the kind is decided, as 0.6.1 does: a function
        // met twice is sent by reference once and then as {"$": path}.
        memo.set(value, path);
        if (typeof value === 'function' || Q.isPromise(value) || byReference(value)) {
            return reference(value);
        }
        var isArray = Array.isArray(value);
        var isError = !isArray && value instanceof Error;
        if (special && !isArray && (isError || !isPlain(value))) {
            var tree = special(value, function encodeChild(child, suffix) {
                if (depth >= maxDepth) throw depthError(maxDepth);
                return encodeValue(child, memo, path + suffix, depth + 1);
            });
            if (tree !== undefined) return tree;
        }
        if (!isArray && !isError && !isPlain(value)) {
            return reference(value);
        }
        if (depth >= maxDepth) {
            throw depthError(maxDepth);
        }
        if (isArray) {
            var array = new Array(value.length);
            for (var i = 0; i < value.length; i++) {
                array[i] = i in value ?
                    encodeValue(value[i], memo, path + '/' + i, depth + 1) :
                    null;
            }
            return array;
        }
        var result = {};
        if (isError) {
            // Raw, not encoded, and before the own keys (key order matters).
            setOwn(result, 'message', value.message);
            setOwn(result, 'stack', keepStacks ? value.stack : stackless(value));
        }
        var keys = Object.keys(value);
        for (var k = 0; k < keys.length; k++) {
            var wireKey = escapeKey(keys[k]);
            setOwn(result, wireKey,
                encodeValue(value[keys[k]], memo, path + '/' + wireKey, depth + 1));
        }
        return result;
    }

    // Rebuilds an Error from a decoded rejection reason when it looks like one
    // encoded Error ({message, stack, ...} with string message and stack).
    function reviveError(reason) {
        if (!isObject(reason) || Array.isArray(reason) || !isPlain(reason) ||
            typeof reason.message !== 'string' || typeof reason.stack !== 'string') {
            return reason;
        }
        var error = new Error(reason.message);
        Object.defineProperty(error, 'stack', {
            value: reason.stack, writable: true, configurable: true, enumerable: false
        });
        Object.keys(reason).forEach(function (key) {
            if (key !== 'message' && key !== 'stack') {
                setOwn(error, key, reason[key]);
            }
        });
        return error;
    }

    // `memo` maps a wire path to the value decoded there; paths use the wire
    // (escaped) keys, as the encoder writes them. `depth` counts the arrays
    // and objects enclosing `tree`.
    function decodeValue(tree, memo, path, depth) {
        if (!isObject(tree)) {
            return tree;
        }
        var result;
        var isArray = Array.isArray(tree);
        if (!isArray) {
            // Own properties only: an inherited "$" (a polluted prototype)
            // must not turn a copy into a lookup.
            var ref = own(tree, '$');
            if (ref !== undefined) {
                return memo.get(ref);
            }
            var special = own(tree, '%');
            if (special) {
                if (special === 'undefined') return undefined;
                if (special === '+Infinity') return Infinity;
                if (special === '-Infinity') return -Infinity;
                if (special === 'NaN') return NaN;
                if (decodeSpecial) {
                    result = decodeSpecial(tree, function decodeChild(child, suffix) {
                        if (depth >= maxDepth) throw depthError(maxDepth);
                        return decodeValue(child, memo, path + suffix, depth + 1);
                    }, function remember(value) {
                        memo.set(path, value);
                    });
                    if (result !== undefined) return result;
                }
                result = wireRejection(new TypeError('Unrecognized type: ' + special), depth);
                memo.set(path, result);
                return result;
            }
            var rejection = own(tree, '!');
            if (rejection) {
                // The sender encodes a reason on its own (paths from ""), so
                // it is decoded with a fresh memo.
                var reason = decodeValue(rejection, new Map(), '', depth + 1);
                result = wireRejection(reviveError(reason), depth);
                memo.set(path, result);
                return result;
            }
            var id = own(tree, '@');
            if (id) {
                result = hooks.importReference(id, own(tree, 'type'));
                memo.set(path, result);
                return result;
            }
        }
        if (depth >= maxDepth) {
            throw depthError(maxDepth);
        }
        if (isArray) {
            result = new Array(tree.length);
            memo.set(path, result);
            for (var i = 0; i < tree.length; i++) {
                result[i] = decodeValue(tree[i], memo, path + '/' + i, depth + 1);
            }
            return result;
        }
        result = {};
        memo.set(path, result);
        var keys = Object.keys(tree);
        for (var k = 0; k < keys.length; k++) {
            setOwn(result, unescapeKey(keys[k]),
                decodeValue(tree[keys[k]], memo, path + '/' + keys[k], depth + 1));
        }
        return result;
    }

    // Decodes, in the tree JSON.parse just made (ours to change), the
    // {"%"}, {"!"} and {"@"} forms, when the text proved there is no {"$"}
    // path and no escaped key (fast.revivalOf): then no path is needed and
    // every other object is already what decodeValue would build. `depth`
    // as in decodeValue; the text's nesting was limited before parsing.
    function reviveForms(tree, depth) {
        if (!isObject(tree)) return tree;
        var child, revived;
        if (Array.isArray(tree)) {
            for (var i = 0; i < tree.length; i++) {
                child = tree[i];
                if (isObject(child)) tree[i] = reviveForms(child, depth + 1);
            }
            return tree;
        }
        if (own(tree, '%') || own(tree, '!') || own(tree, '@')) {
            return decodeValue(tree, new Map(), '', depth);
        }
        var keys = Object.keys(tree);
        for (var k = 0; k < keys.length; k++) {
            child = tree[keys[k]];
            if (!isObject(child)) continue;
            revived = reviveForms(child, depth + 1);
            if (revived !== child) setOwn(tree, keys[k], revived);
        }
        return tree;
    }

    function encode(value) {
        return encodeValue(value, new Map(), '', 0);
    }

    function decode(tree) {
        return decodeValue(tree, new Map(), '', 0);
    }

    return {
        encode: encode,
        decode: decode,
        encodeText: function encodeText(value) {
            var json = plainIsCopied ? fast.jsonDataText(value, maxDepth, special) : undefined;
            return json !== undefined ? json : JSON.stringify(encode(value));
        },
        decodeText: function decodeText(json, revival) {
            var tree = JSON.parse(json);
            switch (revival === undefined ? fast.revivalOf(json) : revival) {
                case fast.AS_PARSED: return tree;
                case fast.REVIVE_FORMS: return reviveForms(tree, 0);
                default: return decode(tree);
            }
        }
    };
}

module.exports = {
    makeCodec: makeCodec,
    DEFAULT_MAX_DEPTH: DEFAULT_MAX_DEPTH
};
