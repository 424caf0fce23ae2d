import { errorCodes, type FastifyInstance } from 'fastify';

/**
 * The gateway reads JSON bodies and nothing else, with one rule for every other content type: a body is refused
 * with 415, an empty body is no body (many HTTP clients, Python's SignalR clients among them, send
 * `Content-Type: application/json` or `application/octet-stream` with nothing, even where no body is expected).
 */
export function acceptJsonBodiesOnly(fastify: FastifyInstance): void {
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, text, done) => {
    try {
      // Plain JSON.parse, not Fastify's secure-json-parse: keys such as `__proto__` stay own data properties, which
      // the validation pipe refuses by their path (secure-json-parse called such a body "not valid JSON").
      done(null, text === '' ? undefined : JSON.parse(text as string));
    } catch {
      done(new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY(), undefined);
    }
  });
  fastify.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, bytes, done) => {
    done((bytes as Buffer).length === 0 ? null : new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE(), undefined);
  });
}
