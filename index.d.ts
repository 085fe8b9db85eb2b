// Public types of q-connection-rs (hand-written; binding.d.ts is generated).

/** A promise for the far side's root object, typed by its interface R; it fulfils to a FarReference<R>. */
declare function Connection<R = any, L = any>(port: Connection.Port, local?: L, options?: Connection.ConnectionOptions): Connection.Remote<Connection.Far<R>>;

declare namespace Connection {
  /** A Q 1.x promise, as far as this library uses it. */
  export interface QPromise<T> extends PromiseLike<T> {
    then<A = T, B = never>(
      onFulfilled?: ((value: T) => A | PromiseLike<A>) | null,
      onRejected?: ((reason: any) => B | PromiseLike<B>) | null,
      onProgress?: ((progress: any) => any) | null
    ): QPromise<A | B>;
    fail<B = never>(onRejected: (reason: any) => B | PromiseLike<B>): QPromise<T | B>;
    catch<B = never>(onRejected: (reason: any) => B | PromiseLike<B>): QPromise<T | B>;
    fin(onSettled: () => any): QPromise<T>;
    finally(onSettled: () => any): QPromise<T>;
    progress(onProgress: (progress: any) => any): QPromise<T>;
    spread<A>(onFulfilled: (...values: any[]) => A | PromiseLike<A>, onRejected?: (reason: any) => any): QPromise<A>;
    timeout(ms: number, message?: string | Error): QPromise<T>;
    delay(ms: number): QPromise<T>;
    done(onFulfilled?: (value: T) => any, onRejected?: (reason: any) => any): void;
    inspect(): { state: "pending" | "fulfilled" | "rejected" | "unknown"; value?: T; reason?: any };
  }

  const FAR: unique symbol;

  /**
   * Marks, in the interface R of a far object, a value that crosses by
   * reference (a class instance, a Map, ...): a method declared to return
   * `Far<Counter>` fulfils to a `FarReference<Counter>`. Plain objects,
   * arrays and errors cross by copy and need no mark. Implementations may
   * return a plain `Counter`: the mark is an optional phantom key.
   */
  export type Far<T> = T & { readonly [FAR]?: T };

  type IsFar<T> = typeof FAR extends keyof T ? true : false;
  type ArgsOf<F> = 0 extends 1 & F ? any[] : F extends (...args: infer A) => any ? A : never;
  type ResultOf<F> = 0 extends 1 & F ? any : F extends (...args: any[]) => infer T ? Awaited<T> : never;

  /**
   * What a value of type T is on this side once it has crossed the wire and
   * settled: a function becomes a function returning a promise, a `Far<T>`
   * a FarReference, a promise the promise of its value, and copied objects
   * and arrays the same shape with their members converted in turn.
   */
  export type Settled<T> =
    0 extends 1 & T ? any :
    T extends FarReference<any> ? T :
    T extends (...args: infer A) => infer U ? (...args: A) => QPromise<Settled<Awaited<U>>> :
    IsFar<T> extends true ? FarReference<T> :
    T extends PromiseLike<infer U> ? QPromise<Settled<U>> :
    T extends Error ? T :
    T extends readonly any[] ? { -readonly [I in keyof T]: Settled<T[I]> } :
    T extends object ? { [K in keyof T]: Settled<T[K]> } :
    T;

  /** Names of the members of R that are functions. */
  export type MethodKeys<R> = { [K in keyof R]-?: R[K] extends (...args: any[]) => any ? K : never }[keyof R];

  /** The Q message methods, typed against the far object R. */
  export interface RemoteMethods<R> {
    /** A promise for `R[name]` (send it messages before it settles). */
    get<K extends keyof R>(name: K): Remote<R[K]>;
    set<K extends keyof R>(name: K, value: R[K]): QPromise<void>;
    del<K extends keyof R>(name: K): QPromise<void>;
    delete<K extends keyof R>(name: K): QPromise<void>;
    /** Calls method `name` with the array `args`; a promise of its awaited result. */
    post<K extends MethodKeys<R>>(name: K, args: ArgsOf<R[K]>): Remote<ResultOf<R[K]>>;
    /** Calls method `name` with the remaining arguments; a promise of its awaited result. */
    invoke<K extends MethodKeys<R>>(name: K, ...args: ArgsOf<R[K]>): Remote<ResultOf<R[K]>>;
    /** Calls R itself (a far function) with the array `args`. */
    fapply(args: ArgsOf<R>): Remote<ResultOf<R>>;
    /** Calls R itself (a far function) with the arguments. */
    fcall(...args: ArgsOf<R>): Remote<ResultOf<R>>;
    keys(): QPromise<string[]>;
    /** Sends any Q operation (`get`, `set`, `delete`, `post`, `apply`, `keys`). */
    dispatch(op: string, args: unknown[]): QPromise<any>;
  }

  /** A Q promise for a value R on the far side: send it messages before it settles (pipelining). */
  export type Remote<R> = QPromise<Settled<R>> & RemoteMethods<R>;

  /** What a promise for a far object fulfils to: not thenable, so `await` settles on it. */
  export interface FarReference<R = any> extends RemoteMethods<R> {
    /** The Q promise for the far object. */
    promise(): Remote<Far<R>>;
  }

  export interface ConnectionOptions {
    /** Bound on references kept for the peer (LRU); unbounded by default. */
    capacity?: number;
    /** The old name of `capacity`. */
    max?: number;
    /** Called with a message addressed to an id this side no longer has. */
    onmessagelost?: (message: unknown) => void;
    /** Called with each malformed or refused message's error (`error.code` says which). */
    onerror?: (error: Error & { code?: string }) => void;
    /** For window-like ports: the target origin, and the origin inbound messages must come from. */
    origin?: string;
    /** Largest message accepted, in bytes (default 64 MiB). */
    maxMessageBytes?: number;
    /** Deepest nesting accepted in a message (default 1000). */
    maxDepth?: number;
    /**
     * WebSocket ports (`ws`, W3C, native): bytes sent and not yet taken by a
     * peer that does not read, past which its messages are no longer read
     * until they drain below half (default 16 MiB).
     */
    maxBufferedBytes?: number;
    /**
     * false lets the peer reach everything 0.6.1 did (`__proto__`, `constructor`,
     * inherited members); only for peers trusted like local code. Default true:
     * own properties and class members only.
     */
    guard?: boolean;
    /** false sends each Error's stack as its first line only (servers facing untrusted clients). Default true. */
    stacks?: boolean;
    /** The connection's name in traces and on the handle; default "conn#N", counting connections from 1. */
    name?: string;
    /**
     * Called with every message in and out, as the exact text that crossed the
     * port. A throw is reported to `onerror` (code ETRACE) and never breaks
     * the connection. `DEBUG=q-connection-rs` prints the same to stderr.
     */
    trace?: (direction: "in" | "out", message: string, name: string) => void;
    /** Calls from the peer served at once (default 10,000); past it a call is refused with a rejection. */
    maxPendingCalls?: number;
    /** References exported at once (default 100,000); past it the answer needing one rejects. */
    maxExports?: number;
    /**
     * Extensions announced to the peer (docs/PROTOCOL-EXTENSIONS.md): absent or
     * true announces every registered one; false or [] sends no hello (the exact
     * 0.6.1 wire); an array announces those names.
     */
    extensions?: boolean | string[];
    /**
     * Milliseconds after which a call still unanswered rejects with a clear
     * error (and, with a pipelining peer, the answering side drops it). Absent
     * or 0: calls wait for ever, as in 0.6.1.
     */
    timeout?: number;
  }

  export interface ConnectionStats {
    exports: number;
    questions: number;
    slots: number;
    sendsIn: number;
    resolvesIn: number;
    notifiesIn: number;
    sendsOut: number;
    resolvesOut: number;
    notifiesOut: number;
    lost: number;
    ignored: number;
    malformed: number;
    refused: number;
    evicted: number;
    /** Errors reported (to `onerror` when there is one): malformed, refused and lost messages, trace callback failures. */
    errors: number;
    /** Calls refused because maxPendingCalls were being served. */
    callsRefused: number;
    /** Exports refused because maxExports were alive. */
    exportsRefused: number;
    /** The peer's questions whose answers are kept for pipelining. */
    answers: number;
    releasesIn: number;
    releasesOut: number;
  }

  export interface ConnectionHandle<R = any> {
    remote: Remote<Far<R>>;
    /** Closes the port; pending calls reject with "Connection closed because: ...". */
    close(reason?: unknown): QPromise<unknown>;
    /** Settles with the cause when the connection closes. */
    closed: QPromise<unknown>;
    stats(): ConnectionStats;
    /** The `name` option, or "conn#N". */
    name: string;
    /** True once the peer's hello announced extension `name` and this side offered it too. */
    peerHas(name: string): boolean;
  }

  /** A Q channel: the indefinite queue of q-connection. */
  export interface Channel<T = unknown> {
    get(): QPromise<T>;
    put(value: T): void;
    close(reason?: unknown): QPromise<unknown>;
    closed: QPromise<unknown>;
  }

  /** Any port q-connection-rs adapts: workers, MessagePorts, WebSockets, Q channels, ... */
  export type Port = object;

  /** Options of a native WebSocket connection (lib/native.js), both sides. */
  export interface NativeOptions extends ConnectionOptions {
    /** Largest message accepted, in bytes (default 64 MiB); a larger one closes the socket with code 1009. */
    maxMessageSize?: number;
    /** Milliseconds between keepalive pings (default 30000; 0 turns them off). */
    pingInterval?: number;
    /** Milliseconds to wait for any frame after a ping before closing (default 10000). */
    pingTimeout?: number;
    /** Milliseconds a local close waits for the peer's closing handshake (default 1000). */
    closeTimeout?: number;
  }

  export interface NativeConnectOptions extends NativeOptions {
    /** Extra certificate authorities for wss://, PEM, on top of the bundled webpki roots. */
    ca?: string | Buffer;
    /** Milliseconds to wait for the TCP, TLS and WebSocket handshakes (default 30000). */
    connectTimeout?: number;
    /** Extra request headers. */
    headers?: Record<string, string>;
  }

  /** The peer of a native connection, as its handshake described it. */
  export interface PeerInfo {
    /** "ip:port" of the peer. */
    remoteAddress: string;
    /** Server side: the request target ("/rpc?x=1"); client side: the URL. */
    url: string;
    /** Server side: the request headers; client side: the response headers (lower-case names). */
    headers: Record<string, string>;
  }

  export interface ListenOptions<L = any> extends NativeOptions {
    /** Default "127.0.0.1". */
    host?: string;
    /** Default 0: a free port (see `address()`). */
    port?: number;
    /** When given, upgrade requests for another path are answered 404. */
    path?: string;
    /** The root object each connection serves: one shared object, or a function called per connection. */
    local?: L | ((info: PeerInfo) => L);
  }

  export interface NativeConnectionHandle<R = any> extends ConnectionHandle<R> {
    info: PeerInfo;
  }

  export interface NativeServer {
    /** Where the server listens. */
    address(): { host: string; port: number };
    /** Sockets open on the Rust side, and connection handles open on the JS side. */
    stats(): { connections: number; handles: number };
    /** Stops listening and closes every connection (code 1001), rejecting their pending calls. */
    close(): Promise<void>;
    on(event: "connection", listener: (connection: ConnectionHandle, info: PeerInfo) => void): this;
    /** A `local` factory or a "connection" listener threw (without a listener: a process warning). */
    on(event: "error", listener: (error: Error) => void): this;
  }

  /** Listens for WebSocket peers (browsers, `ws`, q-connection 0.6.1, ours) with the native transport. */
  export function listen<L = any>(options: ListenOptions<L>): Promise<NativeServer>;
  /** Connects to a ws:// or wss:// server with the native transport. */
  export function connect<R = any, L = any>(url: string | URL, local?: L, options?: NativeConnectOptions): Promise<NativeConnectionHandle<R>>;

  export { Connection };
  export function open<R = any, L = any>(port: Port, local?: L, options?: ConnectionOptions): ConnectionHandle<R>;
  export function Queue<T = unknown>(): Channel<T>;
  /** The class of far references, for `instanceof`; made by the library, not by users. */
  export const FarReference: abstract new (promise: never) => FarReference;
}

export = Connection;
