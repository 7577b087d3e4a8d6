/**
 * What the collector refuses before a route runs, in the API's error shape
 * (docs/API.md): a URL whose percent-encoding is malformed or whose path
 * parameter is too long, a query parameter given twice, and requests Node's
 * HTTP parser cannot read or that time out before Fastify sees them.
 */
import { STATUS_CODES, maxHeaderSize, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError } from 'fastify';
import { ApiError, errorBody } from './errors.js';

/** The longest path parameter the router takes. */
export const MAX_PARAM_LENGTH = 512;

/** A `%` not followed by two hex digits. */
const BAD_PERCENT = /%(?![0-9A-Fa-f]{2})/;

/** Said of a malformed percent-encoding, in the path (the router) or the query string. */
const MALFORMED_URL = "the URL's percent-encoding is malformed";

/**
 * Refuses malformed percent-encoding in the query string, as the router
 * refuses it in the path: the query parser would read `%ZZ` as those three
 * characters, and a search for them would quietly look for something else.
 */
export function checkPercentEncoding(queryString: string): void {
  if (BAD_PERCENT.test(queryString)) throw new ApiError(400, 'ERR_BAD_REQUEST', MALFORMED_URL);
}

/** Refuses a query parameter given more than once (hostile or confused input): which one counts would be a guess. */
export function checkSingleValued(query: unknown): void {
  if (query === null || typeof query !== 'object') return;
  for (const [name, value] of Object.entries(query)) {
    if (!Array.isArray(value)) continue;
    const times = value.length === 2 ? 'twice' : `${value.length} times`;
    throw new ApiError(400, 'ERR_BAD_REQUEST', `${name.slice(0, 100)} is given ${times}; give it once`);
  }
}

/** The router's refusals (`frameworkErrors`): a URL it cannot decode or a path parameter too long. */
export function routingError(err: FastifyError): ApiError {
  switch (err.code) {
    case 'FST_ERR_BAD_URL':
      return new ApiError(400, 'ERR_BAD_REQUEST', MALFORMED_URL);
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new ApiError(400, 'ERR_BAD_REQUEST', `a path segment of the URL is longer than ${MAX_PARAM_LENGTH} characters`);
    default:
      return new ApiError(500, 'ERR_INTERNAL', 'internal error');
  }
}

/** Node's parser codes for a request line it cannot read (raw non-ASCII or a space in the URL, an unknown method or version). */
const REQUEST_LINE = new Set(['HPE_INVALID_URL', 'HPE_INVALID_METHOD', 'HPE_INVALID_VERSION', 'HPE_INVALID_CONSTANT']);

/**
 * Answers a request Node's HTTP parser refused, or that timed out, before
 * Fastify saw it: written straight to the socket, as Node's and Fastify's own
 * handlers do, but in the API's error shape, and then the connection is closed.
 */
export function answerClientError(err: Error & { code?: string; reason?: string }, socket: Socket, timeoutMs: number): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  let api: ApiError;
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') api = new ApiError(408, 'ERR_TIMEOUT', `the request took longer than ${timeoutMs} ms`);
  else if (err.code === 'HPE_HEADER_OVERFLOW') api = new ApiError(431, 'ERR_HEADERS_TOO_LARGE', `the request line and headers are larger than ${maxHeaderSize} bytes`);
  else if (REQUEST_LINE.has(err.code ?? '')) api = new ApiError(400, 'ERR_BAD_REQUEST', 'the request line is not valid HTTP (percent-encode non-ASCII characters in the URL)');
  else {
    const reason = err.reason ?? err.message;
    api = new ApiError(400, 'ERR_BAD_REQUEST', `the request is not valid HTTP: ${reason.charAt(0).toLowerCase()}${reason.slice(1)}`);
  }
  const body = JSON.stringify(errorBody(api.code, api.message));
  const answer = () => {
    if (!socket.writable) return void socket.destroy();
    socket.end(
      `HTTP/1.1 ${api.status} ${STATUS_CODES[api.status]}\r\ncontent-type: application/json; charset=utf-8\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  };
  // A pipelining client's earlier, whole request may still be answering: the refusal follows its
  // response. A request whose own body broke is answered at once, unless its response has begun.
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (inFlight && inFlight.req.complete && !inFlight.writableFinished) inFlight.once('finish', answer);
  else if (inFlight?.headersSent) socket.destroy();
  else answer();
}
