// The Node process's counterpart of Go's runtime figures that Consul reports (`info` runtime
// section, consul.runtime.* gauges) where Node has no exact equivalent.

/**
 * Consul's goroutine count (`runtime.goroutines`, `consul.runtime.num_goroutines`) for a Node
 * process: the event loop's active resources (process.getActiveResourcesInfo: referenced handles
 * such as listening and connected sockets, in-flight requests such as file system and DNS calls,
 * and pending referenced timers and immediates). Like Go's goroutine count it is the concurrent
 * work alive in the agent, growing with connections, blocking queries and check timers;
 * unreferenced handles are not counted.
 */
export function activeResources(): number {
  return process.getActiveResourcesInfo().length;
}
