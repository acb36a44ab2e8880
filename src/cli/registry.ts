// The one list of CLI commands and the dispatcher, with mitchellh/cli's rules as Consul uses
// them: longest-prefix nested commands, -h/-help/--help anywhere, -v/--version → `version`.

import type { CliIO, Command } from './io.ts';
import { RUN_RESULT_HELP } from './io.ts';

/** A command as the dispatcher lists it: name and synopsis for usage, its module loaded only to run it or show its help. */
export interface CommandEntry {
  name: string;
  synopsis: string;
  load(): Promise<Command>;
}

/** Every command, by full name. Each module is imported on first use, so `proconsul version` or
 *  `proconsul -h` loads no agent code (registry.test.ts checks name and synopsis against the module). */
export const COMMANDS: readonly CommandEntry[] = [
  { name: 'acl', synopsis: "Interact with Consul's ACLs", load: async () => (await import('./acl.ts')).aclCommand },
  { name: 'acl auth-method', synopsis: "Manage Consul's ACL auth methods", load: async () => (await import('./acl.ts')).aclAuthMethodCommand },
  { name: 'acl auth-method create', synopsis: 'Create an ACL auth method', load: async () => (await import('./acl-auth-method-create.ts')).aclAuthMethodCreateCommand },
  { name: 'acl auth-method delete', synopsis: 'Delete an ACL auth method', load: async () => (await import('./acl-auth-method-delete.ts')).aclAuthMethodDeleteCommand },
  { name: 'acl auth-method list', synopsis: 'Lists ACL auth methods', load: async () => (await import('./acl-auth-method-list.ts')).aclAuthMethodListCommand },
  { name: 'acl auth-method read', synopsis: 'Read an ACL auth method', load: async () => (await import('./acl-auth-method-read.ts')).aclAuthMethodReadCommand },
  { name: 'acl auth-method update', synopsis: 'Update an ACL auth method', load: async () => (await import('./acl-auth-method-update.ts')).aclAuthMethodUpdateCommand },
  { name: 'acl binding-rule', synopsis: "Manage Consul's ACL binding rules", load: async () => (await import('./acl.ts')).aclBindingRuleCommand },
  { name: 'acl binding-rule create', synopsis: 'Create an ACL binding rule', load: async () => (await import('./acl-binding-rule-create.ts')).aclBindingRuleCreateCommand },
  { name: 'acl binding-rule delete', synopsis: 'Delete an ACL binding rule', load: async () => (await import('./acl-binding-rule-delete.ts')).aclBindingRuleDeleteCommand },
  { name: 'acl binding-rule list', synopsis: 'Lists ACL binding rules', load: async () => (await import('./acl-binding-rule-list.ts')).aclBindingRuleListCommand },
  { name: 'acl binding-rule read', synopsis: 'Read an ACL binding rule', load: async () => (await import('./acl-binding-rule-read.ts')).aclBindingRuleReadCommand },
  { name: 'acl binding-rule update', synopsis: 'Update an ACL binding rule', load: async () => (await import('./acl-binding-rule-update.ts')).aclBindingRuleUpdateCommand },
  { name: 'acl bootstrap', synopsis: "Bootstrap Consul's ACL system", load: async () => (await import('./acl-bootstrap.ts')).aclBootstrapCommand },
  { name: 'acl explain', synopsis: 'Explain whether a token may access a resource, and which rule decides', load: async () => (await import('./acl-explain.ts')).aclExplainCommand },
  { name: 'acl init', synopsis: 'Bootstrap ACLs and set the agent and DNS tokens in one step', load: async () => (await import('./acl-init.ts')).aclInitCommand },
  { name: 'acl policy', synopsis: "Manage Consul's ACL policies", load: async () => (await import('./acl.ts')).aclPolicyCommand },
  { name: 'acl policy create', synopsis: 'Create an ACL policy', load: async () => (await import('./acl-policy-create.ts')).aclPolicyCreateCommand },
  { name: 'acl policy delete', synopsis: 'Delete an ACL policy', load: async () => (await import('./acl-policy-delete.ts')).aclPolicyDeleteCommand },
  { name: 'acl policy list', synopsis: 'Lists ACL policies', load: async () => (await import('./acl-policy-list.ts')).aclPolicyListCommand },
  { name: 'acl policy read', synopsis: 'Read an ACL policy', load: async () => (await import('./acl-policy-read.ts')).aclPolicyReadCommand },
  { name: 'acl policy update', synopsis: 'Update an ACL policy', load: async () => (await import('./acl-policy-update.ts')).aclPolicyUpdateCommand },
  { name: 'acl role', synopsis: "Manage Consul's ACL roles", load: async () => (await import('./acl.ts')).aclRoleCommand },
  { name: 'acl role create', synopsis: 'Create an ACL role', load: async () => (await import('./acl-role-create.ts')).aclRoleCreateCommand },
  { name: 'acl role delete', synopsis: 'Delete an ACL role', load: async () => (await import('./acl-role-delete.ts')).aclRoleDeleteCommand },
  { name: 'acl role list', synopsis: 'Lists ACL roles', load: async () => (await import('./acl-role-list.ts')).aclRoleListCommand },
  { name: 'acl role read', synopsis: 'Read an ACL role', load: async () => (await import('./acl-role-read.ts')).aclRoleReadCommand },
  { name: 'acl role update', synopsis: 'Update an ACL role', load: async () => (await import('./acl-role-update.ts')).aclRoleUpdateCommand },
  { name: 'acl set-agent-token', synopsis: "Assign tokens for the Consul Agent's usage", load: async () => (await import('./acl-set-agent-token.ts')).aclSetAgentTokenCommand },
  { name: 'acl token', synopsis: "Manage Consul's ACL tokens", load: async () => (await import('./acl.ts')).aclTokenCommand },
  { name: 'acl token clone', synopsis: 'Clone an ACL token', load: async () => (await import('./acl-token-clone.ts')).aclTokenCloneCommand },
  { name: 'acl token create', synopsis: 'Create an ACL token', load: async () => (await import('./acl-token-create.ts')).aclTokenCreateCommand },
  { name: 'acl token delete', synopsis: 'Delete an ACL token', load: async () => (await import('./acl-token-delete.ts')).aclTokenDeleteCommand },
  { name: 'acl token list', synopsis: 'List ACL tokens', load: async () => (await import('./acl-token-list.ts')).aclTokenListCommand },
  { name: 'acl token read', synopsis: 'Read an ACL token', load: async () => (await import('./acl-token-read.ts')).aclTokenReadCommand },
  { name: 'acl token update', synopsis: 'Update an ACL token', load: async () => (await import('./acl-token-update.ts')).aclTokenUpdateCommand },
  { name: 'agent', synopsis: 'Runs a Consul agent', load: async () => (await import('./agent.ts')).agentCommand },
  { name: 'catalog', synopsis: 'Interact with the catalog', load: async () => (await import('./catalog.ts')).catalogCommand },
  { name: 'catalog datacenters', synopsis: 'Lists all known datacenters', load: async () => (await import('./catalog-datacenters.ts')).catalogDatacentersCommand },
  { name: 'catalog nodes', synopsis: 'Lists all nodes in the given datacenter', load: async () => (await import('./catalog-nodes.ts')).catalogNodesCommand },
  { name: 'catalog services', synopsis: 'Lists all registered services in a datacenter', load: async () => (await import('./catalog-services.ts')).catalogServicesCommand },
  { name: 'config', synopsis: "Interact with Consul's Centralized Configurations", load: async () => (await import('./config.ts')).configCommand },
  { name: 'config delete', synopsis: 'Delete a centralized config entry', load: async () => (await import('./config-delete.ts')).configDeleteCommand },
  { name: 'config list', synopsis: 'List centralized config entries of a given kind', load: async () => (await import('./config-list.ts')).configListCommand },
  { name: 'config read', synopsis: 'Read a centralized config entry', load: async () => (await import('./config-read.ts')).configReadCommand },
  { name: 'config write', synopsis: 'Create or update a centralized config entry', load: async () => (await import('./config-write.ts')).configWriteCommand },
  { name: 'connect', synopsis: 'Interact with Consul Connect', load: async () => (await import('./connect.ts')).connectCommand },
  { name: 'connect ca', synopsis: 'Interact with the Consul Connect Certificate Authority (CA)', load: async () => (await import('./connect.ts')).connectCaCommand },
  { name: 'connect ca get-config', synopsis: 'Display the current Connect Certificate Authority (CA) configuration', load: async () => (await import('./connect-ca-get-config.ts')).connectCaGetConfigCommand },
  { name: 'connect ca set-config', synopsis: 'Modify the current Connect CA configuration', load: async () => (await import('./connect-ca-set-config.ts')).connectCaSetConfigCommand },
  { name: 'connect envoy', synopsis: 'Runs or Configures Envoy as a Connect proxy', load: async () => (await import('./connect-envoy.ts')).connectEnvoyCommand },
  { name: 'connect expose', synopsis: 'Expose a Connect-enabled service through an Ingress gateway', load: async () => (await import('./connect-expose.ts')).connectExposeCommand },
  { name: 'connect proxy', synopsis: 'Runs a Consul Connect proxy', load: async () => (await import('./connect-proxy.ts')).connectProxyCommand },
  { name: 'connect redirect-traffic', synopsis: 'Applies iptables rules for traffic redirection', load: async () => (await import('./connect-redirect-traffic.ts')).connectRedirectTrafficCommand },
  { name: 'debug', synopsis: 'Records a debugging archive for operators', load: async () => (await import('./debug.ts')).debugCommand },
  { name: 'event', synopsis: 'Fire a new event', load: async () => (await import('./event.ts')).eventCommand },
  { name: 'exec', synopsis: 'Executes a command on Consul nodes', load: async () => (await import('./exec.ts')).execCommand },
  { name: 'force-leave', synopsis: 'Forces a member of the cluster to enter the "left" state', load: async () => (await import('./force-leave.ts')).forceLeaveCommand },
  { name: 'info', synopsis: 'Provides debugging information for operators.', load: async () => (await import('./info.ts')).infoCommand },
  { name: 'intention', synopsis: 'Interact with Connect service intentions', load: async () => (await import('./intention.ts')).intentionCommand },
  { name: 'intention check', synopsis: 'Check whether a connection between two services is allowed.', load: async () => (await import('./intention-check.ts')).intentionCheckCommand },
  { name: 'intention create', synopsis: 'Create intentions for service connections.', load: async () => (await import('./intention-create.ts')).intentionCreateCommand },
  { name: 'intention delete', synopsis: 'Delete an intention.', load: async () => (await import('./intention-delete.ts')).intentionDeleteCommand },
  { name: 'intention get', synopsis: 'Show information about an intention.', load: async () => (await import('./intention-get.ts')).intentionGetCommand },
  { name: 'intention list', synopsis: 'List intentions.', load: async () => (await import('./intention-list.ts')).intentionListCommand },
  { name: 'intention match', synopsis: 'Show intentions that match a source or destination.', load: async () => (await import('./intention-match.ts')).intentionMatchCommand },
  { name: 'join', synopsis: 'Tell Consul agent to join cluster', load: async () => (await import('./join.ts')).joinCommand },
  { name: 'keygen', synopsis: 'Generates a new encryption key', load: async () => (await import('./keygen.ts')).keygenCommand },
  { name: 'keyring', synopsis: 'Manages gossip layer encryption keys', load: async () => (await import('./keyring.ts')).keyringCommand },
  { name: 'kv', synopsis: 'Interact with the key-value store', load: async () => (await import('./kv.ts')).kvCommand },
  { name: 'kv delete', synopsis: 'Removes data from the KV store', load: async () => (await import('./kv-delete.ts')).kvDeleteCommand },
  { name: 'kv export', synopsis: 'Exports a tree from the KV store as JSON', load: async () => (await import('./kv-export.ts')).kvExportCommand },
  { name: 'kv get', synopsis: 'Retrieves or lists data from the KV store', load: async () => (await import('./kv-get.ts')).kvGetCommand },
  { name: 'kv import', synopsis: 'Imports a tree stored as JSON to the KV store', load: async () => (await import('./kv-import.ts')).kvImportCommand },
  { name: 'kv put', synopsis: 'Sets or updates data in the KV store', load: async () => (await import('./kv-put.ts')).kvPutCommand },
  { name: 'login', synopsis: 'Login to Consul using an auth method', load: async () => (await import('./login.ts')).loginCommand },
  { name: 'logout', synopsis: 'Destroy a Consul token created with login', load: async () => (await import('./logout.ts')).logoutCommand },
  { name: 'maint', synopsis: 'Controls node or service maintenance mode', load: async () => (await import('./maint.ts')).maintCommand },
  { name: 'members', synopsis: 'Lists the members of a Consul cluster', load: async () => (await import('./members.ts')).membersCommand },
  { name: 'monitor', synopsis: 'Stream logs from a Consul agent', load: async () => (await import('./monitor.ts')).monitorCommand },
  { name: 'namespace', synopsis: 'Interact with Namespaces', load: async () => (await import('./namespace.ts')).namespaceCommand },
  { name: 'namespace create', synopsis: 'Create a Namespace', load: async () => (await import('./namespace-create.ts')).namespaceCreateCommand },
  { name: 'namespace delete', synopsis: 'Delete a Namespace', load: async () => (await import('./namespace-delete.ts')).namespaceDeleteCommand },
  { name: 'namespace list', synopsis: 'List all Namespaces', load: async () => (await import('./namespace-list.ts')).namespaceListCommand },
  { name: 'namespace read', synopsis: 'Read a Namespace', load: async () => (await import('./namespace-read.ts')).namespaceReadCommand },
  { name: 'namespace update', synopsis: 'Update a Namespace', load: async () => (await import('./namespace-update.ts')).namespaceUpdateCommand },
  { name: 'namespace write', synopsis: 'Create or update a Namespace from its full definition', load: async () => (await import('./namespace-write.ts')).namespaceWriteCommand },
  { name: 'operator', synopsis: 'Provides cluster-level tools for Consul operators', load: async () => (await import('./operator.ts')).operatorCommand },
  { name: 'operator raft', synopsis: 'Provides cluster-level tools for Consul operators', load: async () => (await import('./operator.ts')).operatorRaftCommand },
  { name: 'operator raft list-peers', synopsis: 'Display the current Raft peer configuration', load: async () => (await import('./operator-raft-list-peers.ts')).operatorRaftListPeersCommand },
  { name: 'operator raft remove-peer', synopsis: 'Remove a Consul server from the Raft configuration', load: async () => (await import('./operator-raft-remove-peer.ts')).operatorRaftRemovePeerCommand },
  { name: 'operator raft transfer-leader', synopsis: 'Transfer raft leadership to another node', load: async () => (await import('./operator-raft-transfer-leader.ts')).operatorRaftTransferLeaderCommand },
  { name: 'operator autopilot', synopsis: 'Provides tools for modifying Autopilot configuration', load: async () => (await import('./operator.ts')).operatorAutopilotCommand },
  { name: 'operator autopilot get-config', synopsis: 'Display the current Autopilot configuration', load: async () => (await import('./operator-autopilot-get-config.ts')).operatorAutopilotGetConfigCommand },
  { name: 'operator autopilot set-config', synopsis: 'Modify the current Autopilot configuration', load: async () => (await import('./operator-autopilot-set-config.ts')).operatorAutopilotSetConfigCommand },
  { name: 'operator autopilot state', synopsis: 'Display the current Autopilot state', load: async () => (await import('./operator-autopilot-state.ts')).operatorAutopilotStateCommand },
  { name: 'operator audit', synopsis: 'Interact with the audit logging subsystem', load: async () => (await import('./operator-audit.ts')).operatorAuditCommand },
  { name: 'operator audit hash', synopsis: 'Computes the audit hash of a string', load: async () => (await import('./operator-audit.ts')).operatorAuditHashCommand },
  { name: 'operator usage', synopsis: 'Provides cluster-level usage information', load: async () => (await import('./operator.ts')).operatorUsageCommand },
  { name: 'operator usage instances', synopsis: 'Display service instance usage information', load: async () => (await import('./operator-usage-instances.ts')).operatorUsageInstancesCommand },
  { name: 'partition', synopsis: 'Interact with admin partitions', load: async () => (await import('./partition.ts')).partitionCommand },
  { name: 'partition create', synopsis: 'Create an admin partition', load: async () => (await import('./partition-create.ts')).partitionCreateCommand },
  { name: 'partition delete', synopsis: 'Delete an admin partition', load: async () => (await import('./partition-delete.ts')).partitionDeleteCommand },
  { name: 'partition list', synopsis: 'List all admin partitions', load: async () => (await import('./partition-read.ts')).partitionListCommand },
  { name: 'partition read', synopsis: 'Read an admin partition', load: async () => (await import('./partition-read.ts')).partitionReadCommand },
  { name: 'partition update', synopsis: 'Update an admin partition', load: async () => (await import('./partition-create.ts')).partitionUpdateCommand },
  { name: 'partition write', synopsis: 'Create or update an admin partition from its full definition', load: async () => (await import('./partition-delete.ts')).partitionWriteCommand },
  { name: 'peering', synopsis: 'Create and manage peering connections between Consul clusters', load: async () => (await import('./peering.ts')).peeringCommand },
  { name: 'peering delete', synopsis: 'Delete a peering connection', load: async () => (await import('./peering-delete.ts')).peeringDeleteCommand },
  { name: 'peering establish', synopsis: 'Establish a peering connection', load: async () => (await import('./peering-establish.ts')).peeringEstablishCommand },
  { name: 'peering exported-services', synopsis: 'Lists exported services to a peer', load: async () => (await import('./peering-exported-services.ts')).peeringExportedServicesCommand },
  { name: 'peering generate-token', synopsis: 'Generate a peering token', load: async () => (await import('./peering-generate-token.ts')).peeringGenerateTokenCommand },
  { name: 'peering list', synopsis: 'List peering connections', load: async () => (await import('./peering-list.ts')).peeringListCommand },
  { name: 'peering read', synopsis: 'Read a peering connection', load: async () => (await import('./peering-read.ts')).peeringReadCommand },
  { name: 'services', synopsis: 'Interact with services', load: async () => (await import('./services.ts')).servicesCommand },
  { name: 'services export', synopsis: 'Export a service from one peer or admin partition to another', load: async () => (await import('./services-export.ts')).servicesExportCommand },
  { name: 'services exported-services', synopsis: 'Lists exported services', load: async () => (await import('./services-exported-services.ts')).servicesExportedServicesCommand },
  { name: 'services deregister', synopsis: 'Deregister services with the local agent', load: async () => (await import('./services-deregister.ts')).servicesDeregisterCommand },
  { name: 'services register', synopsis: 'Register services with the local agent', load: async () => (await import('./services-register.ts')).servicesRegisterCommand },
  { name: 'snapshot', synopsis: 'Saves, restores and inspects snapshots of Consul server state', load: async () => (await import('./snapshot.ts')).snapshotCommand },
  { name: 'snapshot agent', synopsis: 'Periodically saves snapshots of Consul server state', load: async () => (await import('./snapshot-agent.ts')).snapshotAgentCommand },
  { name: 'snapshot decode', synopsis: 'Decodes the binary', load: async () => (await import('./snapshot-decode.ts')).snapshotDecodeCommand },
  { name: 'snapshot inspect', synopsis: 'Displays information about a Consul snapshot file', load: async () => (await import('./snapshot-inspect.ts')).snapshotInspectCommand },
  { name: 'snapshot restore', synopsis: 'Restores snapshot of Consul server state', load: async () => (await import('./snapshot-restore.ts')).snapshotRestoreCommand },
  { name: 'snapshot save', synopsis: 'Saves snapshot of Consul server state', load: async () => (await import('./snapshot-save.ts')).snapshotSaveCommand },
  { name: 'license', synopsis: 'Interact with Consul Enterprise Licensing', load: async () => (await import('./license.ts')).licenseCommand },
  { name: 'license get', synopsis: 'Get the active license', load: async () => (await import('./license-get.ts')).licenseGetCommand },
  { name: 'license inspect', synopsis: 'Inspect a signed license', load: async () => (await import('./license-inspect.ts')).licenseInspectCommand },
  { name: 'license put', synopsis: 'Puts a new license in the datacenter', load: async () => (await import('./license-put.ts')).licensePutCommand },
  { name: 'license reset', synopsis: 'Resets the license in the datacenter', load: async () => (await import('./license-put.ts')).licenseResetCommand },
  { name: 'leave', synopsis: 'Gracefully leaves the Consul cluster and shuts down', load: async () => (await import('./leave.ts')).leaveCommand },
  { name: 'lock', synopsis: 'Execute a command holding a lock', load: async () => (await import('./lock.ts')).lockCommand },
  { name: 'reload', synopsis: 'Triggers the agent to reload configuration files', load: async () => (await import('./reload.ts')).reloadCommand },
  { name: 'rtt', synopsis: 'Estimates network round trip time between nodes', load: async () => (await import('./rtt.ts')).rttCommand },
  { name: 'tls', synopsis: 'Builtin helpers for creating CAs and certificates', load: async () => (await import('./tls.ts')).tlsCommand },
  { name: 'tls ca', synopsis: 'Helpers for CAs', load: async () => (await import('./tls.ts')).tlsCaCommand },
  { name: 'tls ca create', synopsis: 'Create a new consul CA', load: async () => (await import('./tls-ca-create.ts')).tlsCaCreateCommand },
  { name: 'tls cert', synopsis: 'Helpers for certificates', load: async () => (await import('./tls.ts')).tlsCertCommand },
  { name: 'tls cert create', synopsis: 'Create a new certificate', load: async () => (await import('./tls-cert-create.ts')).tlsCertCreateCommand },
  { name: 'tls cert renew', synopsis: 'Renew a existing certificate', load: async () => (await import('./tls-cert-renew.ts')).tlsCertRenewCommand },
  { name: 'validate', synopsis: 'Validate config files/directories', load: async () => (await import('./validate.ts')).validateCommand },
  { name: 'version', synopsis: 'Prints the Proconsul version', load: async () => (await import('./version.ts')).versionCommand },
  { name: 'watch', synopsis: 'Watch for changes in Consul', load: async () => (await import('./watch.ts')).watchCommand },
];

const BY_NAME = new Map<string, CommandEntry>();
for (const c of COMMANDS) {
  if (BY_NAME.has(c.name)) throw new Error(`command registered twice: ${c.name}`);
  BY_NAME.set(c.name, c);
}

/** The immediate subcommands of `prefix` ('' for the top level). */
function children(prefix: string): CommandEntry[] {
  const p = prefix ? `${prefix} ` : '';
  return COMMANDS.filter((c) => c.name.startsWith(p) && c.name.length > p.length && !c.name.slice(p.length).includes(' '));
}

interface Dispatch {
  command: string;
  args: string[];
  help: boolean;
  topFlags: string[];
}

/** Splits argv into the command path (longest registered prefix), its args and the help/top flags. */
function route(argv: string[]): Dispatch {
  const d: Dispatch = { command: '', args: [], help: false, topFlags: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') break;
    if (a === '-h' || a === '-help' || a === '--help') {
      d.help = true;
      continue;
    }
    if (d.command) continue;
    if (a.startsWith('-')) {
      d.topFlags.push(a);
      continue;
    }
    if (a === '') continue;
    d.command = a;
    let consumed = i;
    for (let j = i + 1; j < argv.length && BY_NAME.has(`${d.command} ${argv[j]}`); j++) {
      d.command = `${d.command} ${argv[j]}`;
      consumed = j;
    }
    d.args = argv.slice(consumed + 1);
  }
  return d;
}

/** Runs the CLI on argv (without the program name) and resolves to the exit code. */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  // Consul's main turns -v/--version anywhere (before `--`) into a bare `version`.
  const end = argv.indexOf('--');
  if ((end < 0 ? argv : argv.slice(0, end)).some((a) => a === '-v' || a === '--version')) argv = ['version'];
  const d = route(argv);
  // The usage texts' module loads only to show one (issue #9).
  const usage = () => import('./usage.ts');
  if (d.help && !d.command) {
    io.stderr(`${(await usage()).topUsage(children(''))}\n`);
    return 0;
  }
  const entry = BY_NAME.get(d.command);
  if (!entry) {
    io.stderr(`${(await usage()).topUsage(children(''))}\n`);
    return 127;
  }
  const cmd = await entry.load();
  // Rendered only when shown: wrapping `agent`'s hundred flags took 5–10 ms of every start.
  const help = async () => (await usage()).commandHelp(cmd, children(cmd.name));
  if (d.help) {
    io.stderr(await help());
    return 0;
  }
  if (d.topFlags.length) {
    io.stderr('Invalid flags before the subcommand. If these flags are for\nthe subcommand, please put them after the subcommand.\n\n' + await help());
    return 1;
  }
  const code = await cmd.run(d.args, io);
  if (code === RUN_RESULT_HELP) {
    io.stderr(await help());
    return 1;
  }
  return code;
}
