/**
 * The collector's HTTP API as the console uses it (docs/API.md). The page is
 * public; every data request carries the pasted read token.
 */
import type { EventRecord, EvidenceBundle } from '@stele/log';
import type { FacetSummary } from './facets.js';
import { oidcToken } from './signin.js';
import type { EventProof } from './verify.js';

const TOKEN_KEY = 'stele.token';

/** The bearer: the signed-in person's access token (sessionStorage), else the pasted token (localStorage). */
export const token = {
  get: (): string | null => oidcToken.get() ?? localStorage.getItem(TOKEN_KEY),
  set: (value: string): void => localStorage.setItem(TOKEN_KEY, value.trim()),
  clear: (): void => {
    oidcToken.clear();
    localStorage.removeItem(TOKEN_KEY);
  },
};

/** An API error, with the API's stable code (`ERR_AUTH_MISSING`, ...). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

async function get<T>(path: string, signal?: AbortSignal): Promise<T> {
  const secret = token.get();
  const response = await fetch(path, { headers: secret ? { authorization: `Bearer ${secret}` } : {}, ...(signal && { signal }) });
  const body = (await response.json().catch(() => undefined)) as { error?: { code: string; message: string } } | undefined;
  if (!response.ok) throw new ApiError(response.status, body?.error?.code ?? 'ERR_HTTP', body?.error?.message ?? response.statusText);
  return body as T;
}

/** A page of `GET /v1/events`. */
export interface EventPage {
  events: EventRecord[];
  next: string | null;
  person?: { email: string; name?: string; identifiers: string[] };
}

/** `GET /v1/events` with the given parameters. */
export const searchEvents = (params: URLSearchParams): Promise<EventPage> => get(`/v1/events?${params}`);

/** `GET /v1/events/facets` with the search's filters (and `scan`): counts over the whole search. */
export const fetchFacets = (params: URLSearchParams, signal?: AbortSignal): Promise<FacetSummary> => get(`/v1/events/facets?${params}`, signal);

/** `GET /v1/evidence` with the search's parameters: an evidence bundle (docs/EVIDENCE.md). */
export const fetchEvidence = (params: URLSearchParams): Promise<EvidenceBundle> => get(`/v1/evidence?${params}`);

/** `GET /v1/events/{id}`: the record, its inclusion proof and the checkpoint. */
export const fetchEvent = (id: string): Promise<EventProof> => get(`/v1/events/${id.split('/').map(encodeURIComponent).join('/')}`);

/** `GET /v1/log`'s verifier key. */
export const fetchVerifierKey = async (): Promise<string> => (await get<{ verifierKey: string }>('/v1/log')).verifierKey;

/** The collector's last check of its own log (`GET /v1/log`'s `selfCheck`, docs/API.md). */
export type SelfCheck =
  | { ok: true; size: number; root: string; finished: string; seconds: number }
  | { ok: false; index?: number | null; code: string; message: string; finished: string; seconds: number };

/** `GET /v1/log`'s `selfCheck`: null before the collector's first check. */
export const fetchSelfCheck = async (): Promise<SelfCheck | null> => (await get<{ selfCheck?: SelfCheck | null }>('/v1/log')).selfCheck ?? null;

/** `GET /v1/proof/consistency`'s proof between two sizes. */
export const fetchConsistency = async (from: number, to: number): Promise<string[]> =>
  (await get<{ proof: string[] }>(`/v1/proof/consistency?from=${from}&to=${to}`)).proof;

/**
 * `GET /v1/events/stream`: calls `onEntry` with each new record matching
 * `params` until `signal` aborts. EventSource cannot send a bearer token, so
 * the stream is read with fetch and its server-sent events parsed here.
 */
export async function streamEvents(params: URLSearchParams, signal: AbortSignal, onEntry: (record: EventRecord) => void, onOpen?: () => void): Promise<void> {
  const secret = token.get();
  const response = await fetch(`/v1/events/stream?${params}`, { headers: secret ? { authorization: `Bearer ${secret}` } : {}, signal });
  if (!response.ok || !response.body) throw new ApiError(response.status, 'ERR_HTTP', `the stream answered ${response.status}`);
  onOpen?.();
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      let data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data += line.slice(6);
      }
      if (event === 'entry') onEntry(JSON.parse(data) as EventRecord);
    }
  }
}
