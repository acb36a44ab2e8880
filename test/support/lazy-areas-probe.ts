// Child process of test/startup-lazy.test.ts: records every module loaded, starts a dev agent,
// then runs the requests the test names and prints which of our modules had loaded by each step.
import module from 'node:module';

const loaded: string[] = [];
// PROBE_FAIL names a module whose loading fails (a lazy area's import must then answer 500).
const fail = process.env.PROBE_FAIL;
module.registerHooks({
  load(url, ctx, next) {
    if (fail && url.endsWith(`/src/${fail}`)) throw new Error(`probe refused ${fail}`);
    loaded.push(url);
    return next(url, ctx);
  },
});
const { startDevAgent } = await import('./agent.ts');

/** One step: requests sent together; the modules loaded once they have all answered. */
export interface ProbeStep { requests: { method: string; path: string; body?: unknown; after?: number }[] }
/** What the probe prints: per step the answers, and our src/ modules loaded after start and after each step. */
export interface ProbeOut { atStart: string[]; steps: { answers: { status: number; index: number; text: string }[]; loaded: string[] }[] }

const ours = () => loaded.filter((u) => u.includes('/src/')).map((u) => u.slice(u.indexOf('/src/') + 5));
const steps = JSON.parse(process.argv[2]) as ProbeStep[];
const dev = await startDevAgent();
const out: ProbeOut = { atStart: ours(), steps: [] };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
for (const step of steps) {
  const answers = await Promise.all(step.requests.map(async (r) => {
    if (r.after) await sleep(r.after);
    const path = r.path.replace('{index}', String(out.steps.at(-1)?.answers[0]?.index ?? 0));
    const res = await fetch(`http://${dev.httpAddr}${path}`, { method: r.method, body: r.body === undefined ? undefined : JSON.stringify(r.body) });
    return { status: res.status, index: Number(res.headers.get('x-consul-index') ?? 0), text: await res.text() };
  }));
  out.steps.push({ answers, loaded: ours() });
}
await dev.stop();
process.stdout.write(JSON.stringify(out));
