// HTTP/1.1 responses that let go of their header block once it is handed to the socket, so a
// blocking query's answer leaves no young strings hanging off its long-lived response.
import type http from 'node:http';
import { nodeHttp } from '../node-http.ts';

/**
 * What `_header` holds once the real block was sent: truthy, as node:http reads it (headersSent,
 * and writeHead/setHeader refusing after the headers went out), and shared by every response.
 */
const HEADER_SENT = 'sent';

interface OutgoingInternals {
  _header: string | null;
  _headerSent: boolean;
}

/**
 * A ServerResponse that drops its header block when end() has handed it over. node:http keeps the
 * block (a tree of ≈20 concatenated strings, ≈1.2 KB) in `_header` for the response's whole
 * life; a held blocking query's response was made when the query arrived and sits in the old
 * generation, dead after its answer but unmarked until the next full collection, so every
 * scavenge in between treated the block as live and promoted it: 3 of the 5 MB a 2,500-answer
 * wave promoted, which then started full collections inside the wave.
 */
export class ReleasingResponse extends nodeHttp.ServerResponse {
  override end(chunk?: unknown, encoding?: unknown, callback?: unknown): this {
    // Forwarded as given: node:http tells end(cb), end(chunk, cb) and end(chunk, enc, cb) apart by type.
    super.end(chunk as string, encoding as BufferEncoding, callback as () => void);
    const self = this as unknown as OutgoingInternals;
    // Once _headerSent, the block lives on only in what was written (or queued behind a pipelined answer).
    if (self._headerSent && self._header !== null) self._header = HEADER_SENT;
    return this;
  }
}

/** The HTTP/1.1 server options that make responses ReleasingResponses. */
export const RELEASING: { ServerResponse: typeof http.ServerResponse } = { ServerResponse: ReleasingResponse as unknown as typeof http.ServerResponse };
