/**
 * Scenario 3's baseline, in a process of its own: the floor of a WebSocket broadcast in Node on this machine. A
 * `node:http` server with a `ws` WebSocketServer that speaks just enough of SignalR for the bench's client harness
 * (negotiate answers a fixed id, the handshake gets its empty answer, everything else a client sends is ignored).
 * `POST /api/hubs/{hub}/:send` encodes the body's invocation once, as the emulator does for JSON clients (the same
 * bytes: a JSON record ending in 0x1e), sends that one Buffer to every client as a text frame with `ws`'s public
 * `send`, then answers 202. No auth, no tables, no slow-consumer check, no metrics.
 * Started by bench/processes.ts; it tells its parent `{ listening: url }` (IPC) and exits on SIGTERM.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';

const HOST = '127.0.0.1';
const TEXT = { binary: false };
const HANDSHAKE_RESPONSE = Buffer.from('{}\x1e');
const NEGOTIATED = JSON.stringify({ negotiateVersion: 1, connectionId: 'raw', connectionToken: 'raw', availableTransports: [] });

async function bodyOf(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

const sockets = new WebSocketServer({ noServer: true, perMessageDeflate: false });
sockets.on('connection', (socket) => {
  socket.once('message', () => socket.send(HANDSHAKE_RESPONSE, TEXT));
  socket.on('error', () => socket.terminate());
});

const server = createServer((request, response) => {
  void bodyOf(request).then(
    (body) => {
      if (request.url?.startsWith('/client/negotiate')) return response.writeHead(200, { 'content-type': 'application/json' }).end(NEGOTIATED);
      if (!/^\/api\/hubs\/[^/]+\/:send$/.test(request.url ?? '')) return response.writeHead(404).end();
      const { target, arguments: args } = JSON.parse(body) as { target: string; arguments: unknown[] };
      const frame = Buffer.from(JSON.stringify({ type: 1, target, arguments: args }) + '\x1e');
      for (const socket of sockets.clients) if (socket.readyState === WebSocket.OPEN) socket.send(frame, TEXT);
      response.writeHead(202, { 'content-length': '0' }).end();
    },
    () => response.writeHead(400).end(),
  );
});
server.on('upgrade', (request, socket, head) => sockets.handleUpgrade(request, socket, head, (ws) => sockets.emit('connection', ws, request)));

server.listen(0, HOST, () => {
  process.once('SIGTERM', () => {
    for (const socket of sockets.clients) socket.terminate();
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
  process.send!({ listening: `http://${HOST}:${(server.address() as AddressInfo).port}` });
});
