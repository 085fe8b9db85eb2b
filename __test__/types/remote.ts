// Typed remotes: checked by `tsc` in `npm test`. Every `@ts-expect-error`
// line must fail to compile (tsc reports an unused directive otherwise), and
// every assignment to an annotated variable states a type that must hold.
import Connection = require("../../index");
import { MessageChannel } from "worker_threads";

type Far<T> = Connection.Far<T>;
type FarReference<T> = Connection.FarReference<T>;
type QPromise<T> = Connection.QPromise<T>;

interface Counter {
  n: number;
  next(step: number): number;
  reset(): void;
}

interface Point {
  x: number;
  y: number;
  label?: string;
}

interface Api {
  version: string;
  add(a: number, b: number): number;
  later(ms: number): Promise<string>;
  origin(): Point;
  points(): Point[];
  makeCounter(start?: number): Far<Counter>;
  counter: Far<Counter>;
  greet: (name: string) => string;
  onChange(callback: (value: number) => void): void;
}

const { port1 } = new MessageChannel();
const api = Connection<Api>(port1);

async function positive() {
  // invoke/post: a promise of the awaited return type.
  const sum: number = await api.invoke("add", 1, 2);
  const posted: number = await api.post("add", [1, 2]);
  const text: string = await api.invoke("later", 10);
  const none: void = await api.invoke("onChange", (value: number) => void value);
  // get: a promise of the property's value.
  const version: string = await api.get("version");
  // Copied objects keep their shape.
  const point: Point = await api.invoke("origin");
  const xs: number[] = (await api.invoke("points")).map((p) => p.x);
  // A Far<T> result fulfils to a FarReference whose methods are typed in turn.
  const counter: FarReference<Counter> = await api.invoke("makeCounter", 5);
  const next: number = await counter.invoke("next", 1);
  const n: number = await counter.get("n");
  const held: FarReference<Counter> = await api.get("counter");
  // Pipelining: messages to a promise before it settles.
  const piped: number = await api.invoke("makeCounter").invoke("next", 2);
  const pipedGet: number = await api.get("counter").get("n");
  // A far function crosses as a function returning a promise.
  const greet = await api.get("greet");
  const hello: string = await greet("you");
  const called: string = await api.get("greet").fcall("me");
  const applied: string = await api.get("greet").fapply(["me"]);
  // The root itself fulfils to a FarReference, so `await` settles.
  const root: FarReference<Api> = await api;
  const again: number = await root.invoke("add", 3, 4);
  const rootPromise: QPromise<FarReference<Api>> = root.promise();
  const keys: string[] = await api.keys();
  await api.set("version", "2");
  await api.del("version");
  await counter.promise().invoke("reset");
  // Q's promise methods stay available.
  api.invoke("add", 1, 1).then((value: number) => value + 1).fail(() => 0).done();
  void [sum, posted, text, none, version, point, xs, next, n, held, piped, pipedGet, hello, called, applied, again, rootPromise, keys];
}
void positive;

async function negative() {
  // @ts-expect-error: "nope" is not a member of Api
  api.invoke("nope");
  // @ts-expect-error: "version" is a property, not a method
  api.invoke("version");
  // @ts-expect-error: add takes numbers
  api.invoke("add", "1", 2);
  // @ts-expect-error: add takes two arguments
  api.invoke("add", 1);
  // @ts-expect-error: post takes the arguments as one array
  api.post("add", 1, 2);
  // @ts-expect-error: add returns a number, not a string
  const wrong: string = await api.invoke("add", 1, 2);
  // @ts-expect-error: get of an unknown property
  api.get("missing");
  // @ts-expect-error: set with the wrong type
  api.set("version", 2);
  // @ts-expect-error: a Far<Counter> is not copied: it fulfils to a FarReference, not a Counter
  const copied: Counter = await api.invoke("makeCounter");
  // @ts-expect-error: methods of a FarReference are typed: next takes a number
  (await api.invoke("makeCounter")).invoke("next", "x");
  // @ts-expect-error: a far function returns a promise, not its value
  const direct: string = (await api.get("greet"))("you");
  // @ts-expect-error: Api is not a function
  api.fcall();
  void [wrong, copied, direct];
}
void negative;

// Untyped use stays `any`.
async function untyped() {
  const loose = Connection(port1);
  const anything: { whatever: number } = await loose.invoke("x", 1, "two");
  void anything;
}
void untyped;

// A FarReference can be recognised at run time, and narrows.
function isFar(value: unknown): value is FarReference<Counter> {
  return value instanceof Connection.FarReference;
}
void isFar;
async function narrowing(value: FarReference<Counter> | Point) {
  if (value instanceof Connection.FarReference) {
    const next: number = await value.invoke("next", 1);
    void next;
  } else {
    const x: number = value.x;
    void x;
  }
  // @ts-expect-error: far references are made by the library, not constructed
  new Connection.FarReference(api);
}
void narrowing;
