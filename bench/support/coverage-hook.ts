// Preload (`--import`) of bench/startup-coverage.ts: at the first 200 answered on /v1/status/leader,
// writes V8's coverage (the process runs with NODE_V8_COVERAGE) and stops collecting, then touches
// the file named by COVERAGE_DONE so the parent knows the coverage file is complete.
import dc from 'node:diagnostics_channel';
import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import v8 from 'node:v8';

let done = false;
dc.subscribe('http.server.response.finish', (msg) => {
  const { request, response } = msg as { request: IncomingMessage; response: ServerResponse };
  if (done || response.statusCode !== 200 || !request.url?.startsWith('/v1/status/leader')) return;
  done = true;
  v8.takeCoverage();
  v8.stopCoverage();
  fs.writeFileSync(process.env.COVERAGE_DONE!, '');
});
