// The transaction call: PUT /v1/txn, where 409 is an answer (rolled back) and not an error.

import type { ApiResponse, ConsulClient, QueryOptions } from './client.ts';
import type { TxnOp, TxnResponse } from './types.ts';

/** A transaction's outcome: HTTP status 200 (applied) or 409 (rolled back) and the body. */
export interface TxnReply extends TxnResponse {
  status: 200 | 409;
}

/** Sends a transaction. */
export async function txn(client: ConsulClient, ops: TxnOp[], options: QueryOptions = {}): Promise<ApiResponse<TxnReply>> {
  const res = await client.request({ method: 'PUT', path: '/v1/txn', json: ops, accept: [409], options });
  const body = JSON.parse(res.body.toString('utf8')) as Partial<TxnResponse>;
  return {
    data: { status: res.status === 409 ? 409 : 200, Results: body.Results ?? null, Errors: body.Errors ?? null },
    meta: res.meta,
  };
}
