// The internal names of prepared query forwarding, apart from the handlers so the agent's
// forwarding code does not load them: the ExecuteRemote route and the asking agent's header.

/** The internal route ExecuteRemote is served on. */
export const EXECUTE_REMOTE_PATH = '/v1/internal/query/execute-remote';

/** The node of the client agent a prepared query read came through (`_agent` means that node). */
export const QUERY_AGENT_HEADER = 'x-proconsul-query-agent';
