// The node's tagged addresses as Consul's builder makes them: tagged_addresses as written, lan
// and wan from the advertise addresses, the _ipv4/_ipv6 forms from their keys or the family of
// the advertise address, Consul's errors for the wrong family; and the node registered with them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from './index.ts';
import { fakeInterfaces } from './test-fixtures.ts';
import { nodeRegistration } from '../../leader/self-register.ts';

const load = (args: string[]) => loadConfig({ args, hostname: 'host-a', interfaces: fakeInterfaces, readOnly: true });

test('defaults: lan/wan and the IPv4 forms of the advertise address', async () => {
  const { config } = await load(['-dev', '-bind', '10.1.2.3']);
  assert.deepEqual(config.taggedAddresses, { lan: '10.1.2.3', lan_ipv4: '10.1.2.3', wan: '10.1.2.3', wan_ipv4: '10.1.2.3' });
});

test('tagged_addresses and the advertise_addr_*ipv4/ipv6 keys, without a warning', async () => {
  const { config, warnings } = await load(['-dev', '-bind', '10.1.2.3', '-hcl', `
advertise_addr_wan = "2001:db8::9"
advertise_addr_ipv6 = "2001:db8::1"
advertise_addr_wan_ipv4 = "198.51.100.7"
tagged_addresses { custom = "192.0.2.1", lan = "ignored" }`]);
  assert.deepEqual(config.taggedAddresses, {
    custom: '192.0.2.1', lan: '10.1.2.3', lan_ipv4: '10.1.2.3', lan_ipv6: '2001:db8::1',
    wan: '2001:db8::9', wan_ipv4: '198.51.100.7', wan_ipv6: '2001:db8::9',
  });
  assert.deepEqual(warnings.filter((w) => /tagged|advertise/.test(w)), []);
  assert.deepEqual(nodeRegistration(config).TaggedAddresses, config.taggedAddresses);
});

test('an address of the wrong family fails the build with Consul\'s text', async () => {
  await assert.rejects(load(['-dev', '-hcl', 'advertise_addr_ipv4 = "2001:db8::1"']), { message: 'advertise_addr_ipv4 must be an ipv4 address' });
  await assert.rejects(load(['-dev', '-hcl', 'advertise_addr_wan_ipv6 = "10.0.0.1"']), { message: 'advertise_addr_wan_ipv6 must be an ipv6 address' });
});
