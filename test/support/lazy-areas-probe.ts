// Child process of test/startup-lazy.test.ts: records every module loaded, starts a dev agent,
// then runs the requests the test names and prints which of our modules had loaded by each step.
// PROBE_DNS=listen gives the agent a DNS listener; a step's `dns` names are asked of it over UDP,
// or of agent.dnsHandler() without the listener.
import dgram from 'node:dgram';
import module from 'node:module';
import dnsPacket from 'dns-packet';

const loaded: string[] = [];
// PROBE_FAIL names a module whose loading fails (a lazy area's import must then answer 500).
const fail = process.env.PROBE_FAIL;
// PROBE_FAIL_ONCE: only its first load fails.
const once = process.env.PROBE_FAIL_ONCE === '1';
let refused = false;
module.registerHooks({
  load(url, ctx, next) {
    if (fail && url.endsWith(`/src/${fail}`) && !(once && refused)) {
      refused = true;
      throw new Error(`probe refused ${fail}`);
    }
    loaded.push(url);
    return next(url, ctx);
  },
});
const { startDevAgent } = await import('./agent.ts');

/** One step: requests sent together; the modules loaded once they have all answered. */
export interface ProbeStep { requests: { method: string; path: string; body?: unknown; after?: number }[]; dns?: string[] }
/** What the probe prints: per step the answers, and our src/ modules loaded after start and after each step. */
export interface ProbeOut {
  atStart: string[];
  steps: { answers: { status: number; index: number; text: string }[]; dns: { rcode: string; answers: string[] }[]; loaded: string[] }[];
}

const ours = () => loaded.filter((u) => u.includes('/src/')).map((u) => u.slice(u.indexOf('/src/') + 5));
const steps = JSON.parse(process.argv[2]) as ProbeStep[];
const listen = process.env.PROBE_DNS === 'listen';
const dev = await startDevAgent(listen ? { config: { dnsAddrs: [{ kind: 'tcp', host: '127.0.0.1', port: 0 }] } } : {});

/** One A question, over UDP to the agent's listener or to its handler in-process; an error's message as the rcode. */
async function ask(name: string, id: number): Promise<{ rcode: string; answers: string[] }> {
  const query = dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name }] });
  try {
    const reply = listen ? await overUdp(query) : await (await dev.agent.dnsHandler()).handle(query, 'udp');
    const r = dnsPacket.decode(reply!) as { rcode?: string; answers?: { name: string; data?: unknown }[] };
    return { rcode: r.rcode ?? '', answers: (r.answers ?? []).map((a) => `${a.name} ${String(a.data)}`) };
  } catch (err) {
    return { rcode: (err as Error).message, answers: [] };
  }
}

function overUdp(query: Buffer): Promise<Buffer> {
  const [host, port] = dev.agent.dnsAddresses().udp[0].split(':');
  const sock = dgram.createSocket('udp4');
  return new Promise<Buffer>((resolve) => {
    sock.once('message', (m) => resolve(m));
    sock.send(query, Number(port), host);
  }).finally(() => sock.close());
}
const out: ProbeOut = { atStart: ours(), steps: [] };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
for (const step of steps) {
  const answers = await Promise.all(step.requests.map(async (r) => {
    if (r.after) await sleep(r.after);
    const path = r.path.replace('{index}', String(out.steps.at(-1)?.answers[0]?.index ?? 0));
    const res = await fetch(`http://${dev.httpAddr}${path}`, { method: r.method, body: r.body === undefined ? undefined : JSON.stringify(r.body) });
    return { status: res.status, index: Number(res.headers.get('x-consul-index') ?? 0), text: await res.text() };
  }));
  const dns = await Promise.all((step.dns ?? []).map((name, i) => ask(name, i + 1)));
  out.steps.push({ answers, dns, loaded: ours() });
}
await dev.stop();
process.stdout.write(JSON.stringify(out));
