// Checked by `tsc` in `npm test`: the native WebSocket API's types.
import Connection = require("../../index");

interface Greeter {
  hello(name: string): string;
}

async function nativeUsage(): Promise<void> {
  const server = await Connection.listen({ port: 0, path: "/rpc", local: (info) => ({ hello: (n: string) => n + info.url }) });
  const { port } = server.address();
  server.on("connection", (connection, info) => {
    void connection.remote;
    void info.remoteAddress;
  });
  const conn = await Connection.connect<Greeter>(`ws://127.0.0.1:${port}/rpc`, {}, { pingInterval: 0, maxMessageSize: 1 << 20 });
  const greeting: Promise<string> = Promise.resolve(conn.remote.invoke("hello", "you"));
  void greeting;
  void conn.info.headers;
  // @ts-expect-error: hello takes a string
  conn.remote.invoke("hello", 1);
  // @ts-expect-error: a server has no "message" event
  server.on("message", () => {});
  await server.close();
}
void nativeUsage;
