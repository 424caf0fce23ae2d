import { PassThrough } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RequestTarget } from '../auth.js';
import { negotiate, resolveConnection, type ClientEndpoint } from './client-endpoint.js';
import { LongPollingTransport, ServerSentEventsTransport } from './transports.js';

const TRANSPORT_PATHS = ['/client', '/client/'];
const AVAILABLE_TRANSPORTS = [
  { transport: 'WebSockets', transferFormats: ['Text', 'Binary'] },
  { transport: 'ServerSentEvents', transferFormats: ['Text'] },
  { transport: 'LongPolling', transferFormats: ['Text', 'Binary'] },
];
const NO_CACHE = { 'cache-control': 'no-cache, no-store', pragma: 'no-cache', expires: 'Thu, 01 Jan 1970 00:00:00 GMT' };

const targetOf = (request: FastifyRequest): RequestTarget => ({ protocol: request.protocol, host: request.host, url: request.url });
const queryOf = (request: FastifyRequest): URLSearchParams => new URL(request.url, 'http://query').searchParams;

/** The query key is case-insensitive; missing means 0, above 1 is clamped, anything else is an error. */
function negotiateVersion(query: URLSearchParams): number | undefined {
  const entry = [...query].find(([key]) => key.toLowerCase() === 'negotiateversion');
  if (!entry) return 0;
  return /^\d+$/.test(entry[1]) ? Math.min(Number(entry[1]), 1) : undefined;
}

function fail(reply: FastifyReply, status: number, message: string): FastifyReply {
  if (status === 401) reply.header('www-authenticate', 'Bearer');
  return reply.code(status).type('text/plain').send(message);
}

/** Negotiate and the SSE and long-polling transports (WebSockets are served by the upgrade handler). */
export function clientRoutes(endpoint: ClientEndpoint) {
  return async (app: FastifyInstance): Promise<void> => {
    // Transport POSTs carry raw hub-protocol bytes, text or binary, with whatever content type.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

    app.post('/client/negotiate', async (request, reply) => {
      const query = queryOf(request);
      const version = negotiateVersion(query);
      // ASP.NET Core reports version errors as a 200 with an `error` body, which the client throws.
      if (version === undefined) return { error: 'The client requested an invalid protocol version.' };
      const result = await negotiate(endpoint, targetOf(request), request.headers.authorization, query, version);
      if (!('id' in result)) return fail(reply, result.status, result.message);
      return {
        negotiateVersion: version,
        connectionId: result.id,
        ...(version >= 1 ? { connectionToken: result.token } : {}),
        availableTransports: AVAILABLE_TRANSPORTS,
      };
    });

    for (const path of TRANSPORT_PATHS) {
      app.get(path, async (request, reply) => {
        const resolution = await resolveConnection(endpoint, targetOf(request), request.headers.authorization, queryOf(request), {
          createWithoutId: false,
        });
        if (!('connection' in resolution)) return fail(reply, resolution.status, resolution.message);
        const { connection } = resolution;
        const wantsEvents = (request.headers.accept ?? '').includes('text/event-stream');
        const transport = connection.transport;

        if (wantsEvents) {
          if (transport) return fail(reply, transport.kind === 'ServerSentEvents' ? 409 : 400, 'Cannot change transports mid-connection');
          if (connection.closed) return fail(reply, 404, 'No Connection with that ID');
          const stream = new PassThrough();
          connection.attach(new ServerSentEventsTransport(stream, reply.raw, endpoint.settings.disconnectTimeoutMs));
          reply.raw.on('close', () => connection.transportClosed());
          // The client sends its handshake only once the stream is open: flush headers and a comment now.
          stream.write(':\r\n');
          return reply.headers({ ...NO_CACHE, 'content-type': 'text/event-stream', 'content-encoding': 'identity', 'x-accel-buffering': 'no' }).send(stream);
        }

        reply.headers(NO_CACHE).type('application/octet-stream');
        if (!transport) {
          // The first poll only activates the connection and must return at once, empty.
          if (connection.closed) return fail(reply, 404, 'No Connection with that ID');
          const { longPollTimeoutMs, disconnectTimeoutMs } = endpoint.settings;
          connection.attach(new LongPollingTransport(connection, longPollTimeoutMs, disconnectTimeoutMs));
          return reply.code(200).send(Buffer.alloc(0));
        }
        if (!(transport instanceof LongPollingTransport)) return fail(reply, 400, 'Cannot change transports mid-connection');
        const body = await transport.poll((cancel) =>
          reply.raw.on('close', () => {
            if (!reply.raw.writableFinished) cancel();
          }),
        );
        return body ? reply.code(200).send(body) : reply.code(204).send();
      });

      app.post(path, async (request, reply) => {
        const resolution = await resolveConnection(endpoint, targetOf(request), request.headers.authorization, queryOf(request), {
          createWithoutId: false,
        });
        if (!('connection' in resolution)) return fail(reply, resolution.status, resolution.message);
        const { connection } = resolution;
        if (connection.transport?.kind === 'WebSockets') return fail(reply, 405, 'POST requests are not allowed for WebSocket connections.');
        // The connection exists from negotiate: a send before the first poll waits for it, as in ASP.NET Core.
        if (connection.closed) return fail(reply, 404, 'No Connection with that ID');
        if (Buffer.isBuffer(request.body)) connection.receive(request.body);
        return reply.code(200).send();
      });

      app.delete(path, async (request, reply) => {
        const resolution = await resolveConnection(endpoint, targetOf(request), request.headers.authorization, queryOf(request), {
          createWithoutId: false,
        });
        if (!('connection' in resolution)) return fail(reply, resolution.status, resolution.message);
        const { connection } = resolution;
        if (connection.transport?.kind !== 'LongPolling') return fail(reply, 400, 'Cannot terminate this connection using the DELETE endpoint.');
        connection.transportClosed();
        return reply.code(202).send();
      });
    }
  };
}
