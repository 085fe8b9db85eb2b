// ESM entry of q-connection-rs: the CommonJS module (index.js) re-exported,
// so `import` and `require` share one module instance and one native addon.
// `import Connection, { Queue, open } from "q-connection-rs"`.

import Connection from "./index.js";

export default Connection;
export const { open, Queue, FarReference, listen, connect } = Connection;
export { Connection };
