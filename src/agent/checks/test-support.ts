// Test support for the check runners: a self-signed certificate made at test time and a harness
// that drives one runner on a ManualClock and collects what it reports.
import 'reflect-metadata';
import { setImmediate as tick } from 'node:timers/promises';
import * as x509 from '@peculiar/x509';
import { ManualClock, systemClock, type Clock } from '../../clock.ts';
import { silentLogger } from '../../log.ts';
import { createCheckRunner, type CheckRunner, type CheckRunnerDeps } from './runner.ts';
import type { CheckStatus, CheckType } from './types.ts';

/** A PEM certificate and key for `localhost`, `check.test` and 127.0.0.1. */
export interface TestCert {
  cert: string;
  key: string;
}

/** Creates a self-signed ECDSA certificate valid for localhost, check.test and 127.0.0.1. */
export async function selfSignedCert(): Promise<TestCert> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await globalThis.crypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01', name: 'CN=localhost', keys, signingAlgorithm: alg,
    notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 86_400_000),
    extensions: [new x509.SubjectAlternativeNameExtension([
      { type: 'dns', value: 'localhost' }, { type: 'dns', value: 'check.test' }, { type: 'ip', value: '127.0.0.1' },
    ])],
  });
  const pkcs8 = Buffer.from(await globalThis.crypto.subtle.exportKey('pkcs8', keys.privateKey));
  const key = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END PRIVATE KEY-----\n`;
  return { cert: cert.toString('pem'), key };
}

/** One reported update. */
export type Report = [CheckStatus, string];

/** A runner under test with its clock and reports. */
export interface Harness {
  clock: Clock;
  manual?: ManualClock;
  runner: CheckRunner;
  reports: Report[];
  /** Resolves with the next report (or one already queued and not yet taken). */
  next(): Promise<Report>;
  /** Fires the next scheduled run on the manual clock and returns its report. */
  runOnce(advanceMs?: number): Promise<Report>;
}

/** Starts a runner for `def` (random 0, so the first run is due at once) and takes its initial report. */
export async function harness(def: CheckType, extra: Partial<CheckRunnerDeps> & { realClock?: boolean } = {}): Promise<Harness> {
  const manual = extra.realClock ? undefined : new ManualClock();
  const clock = manual ?? systemClock;
  const reports: Report[] = [];
  let taken = 0;
  let wake: (() => void) | undefined;
  const runner = createCheckRunner(def, {
    clock, logger: silentLogger(), random: () => 0, ...extra,
    update: (s, o) => { reports.push([s, o]); wake?.(); },
  });
  const next = async (): Promise<Report> => {
    while (reports.length <= taken) await new Promise<void>((r) => { wake = r; });
    return reports[taken++];
  };
  const runOnce = async (advanceMs = 0): Promise<Report> => {
    await tick();
    manual?.advance(advanceMs);
    return next();
  };
  runner.start();
  await next();
  return { clock, manual, runner, reports, next, runOnce };
}
