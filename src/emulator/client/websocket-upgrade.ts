import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer } from 'ws';
import { resolveConnection, type ClientEndpoint } from './client-endpoint.js';
import { WebSocketTransport } from './transports.js';

const MAX_MESSAGE_BYTES = 1024 * 1024;
const CLIENT_PATHS = new Set(['/client', '/client/']);

function refuse(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** Serves WebSocket transports on the HTTP server that Fastify listens with. Returns a function that stops it. */
export function serveWebSockets(server: Server, endpoint: ClientEndpoint): () => void {
  // No compression: WebSocketTransport writes its frames to the socket itself, which is only safe while `ws` never
  // holds frames back (it queues them only while compressing).
  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, perMessageDeflate: false });

  async function upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://upgrade');
    if (!CLIENT_PATHS.has(url.pathname)) return refuse(socket, 404, 'Not Found');
    const target = {
      protocol: (socket as TLSSocket).encrypted ? 'https' : 'http',
      host: request.headers.host ?? '',
      url: request.url ?? '/',
    };
    const resolution = await resolveConnection(endpoint, target, request.headers.authorization, url.searchParams, {
      createWithoutId: true,
    });
    if (!('connection' in resolution)) {
      return refuse(socket, resolution.status, resolution.status === 401 ? 'Unauthorized' : resolution.status === 400 ? 'Bad Request' : 'Not Found');
    }
    const { connection } = resolution;
    if (connection.transport || connection.closed) return refuse(socket, 409, 'Conflict');
    sockets.handleUpgrade(request, socket, head, (ws) => {
      connection.attach(new WebSocketTransport(ws, socket));
      // binaryType 'nodebuffer': text and binary frames both arrive as one Buffer per message.
      ws.on('message', (data) => connection.receive(data as Buffer));
      ws.on('close', () => connection.transportClosed());
      ws.on('error', () => ws.terminate());
    });
  }

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    upgrade(request, socket, head).catch(() => refuse(socket, 500, 'Internal Server Error'));
  };
  server.on('upgrade', onUpgrade);
  return () => {
    server.off('upgrade', onUpgrade);
    for (const ws of sockets.clients) ws.terminate();
    sockets.close();
  };
}
