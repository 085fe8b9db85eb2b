// Checked by `tsc` in `npm test`: lines marked @ts-expect-error must fail to compile.
import Connection = require("../../index");
import { MessageChannel } from "worker_threads";

interface Counter {
  next(step: number): number;
  name: string;
}

const { port1 } = new MessageChannel();
const remote = Connection<Counter>(port1, {});

const next: Promise<number> = Promise.resolve(remote.invoke("next", 1));
const name = remote.get("name");
void next;
void name;

// @ts-expect-error: "nope" is not a method of Counter
remote.invoke("nope");
// @ts-expect-error: next takes a number
remote.invoke("next", "one");

const handle = Connection.open<Counter>(port1);
const exports: number = handle.stats().exports;
void exports;
void handle.close();
