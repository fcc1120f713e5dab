import type { Socket } from 'node:net';
import { PROBLEM_CONTENT_TYPE, problemTypes } from '../problem.js';
import { securityHeaderLines } from './security-headers.js';

/**
 * Errors Node's HTTP parser raises before Fastify sees a request (malformed request line, headers too large,
 * request not complete within requestTimeout): answered as problem+json, never echoing the URL.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [kind, detail] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? (['requestTimeout', 'the request was not received completely within the configured timeout (REQUEST_TIMEOUT_MS)'] as const)
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? (['headersTooLarge', 'the request headers are larger than the server accepts'] as const)
        : (['malformedBody', 'the request is not valid HTTP'] as const);
  const { type, title, status } = problemTypes[kind];
  const body = JSON.stringify({ type, title, status, detail });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${title}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${securityHeaderLines()}Connection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
