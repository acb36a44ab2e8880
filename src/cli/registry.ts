// The one list of CLI commands and the dispatcher, with mitchellh/cli's rules as Consul uses
// them: longest-prefix nested commands, -h/-help/--help anywhere, -v/--version → `version`.

import type { CliIO, Command } from './io.ts';
import { RUN_RESULT_HELP } from './io.ts';
import { commandHelp, topUsage } from './usage.ts';
import { aclAuthMethodCommand, aclBindingRuleCommand, aclCommand, aclPolicyCommand, aclRoleCommand, aclTokenCommand } from './acl.ts';
import { aclAuthMethodCreateCommand } from './acl-auth-method-create.ts';
import { aclAuthMethodDeleteCommand } from './acl-auth-method-delete.ts';
import { aclAuthMethodListCommand } from './acl-auth-method-list.ts';
import { aclAuthMethodReadCommand } from './acl-auth-method-read.ts';
import { aclAuthMethodUpdateCommand } from './acl-auth-method-update.ts';
import { aclBindingRuleCreateCommand } from './acl-binding-rule-create.ts';
import { aclBindingRuleDeleteCommand } from './acl-binding-rule-delete.ts';
import { aclBindingRuleListCommand } from './acl-binding-rule-list.ts';
import { aclBindingRuleReadCommand } from './acl-binding-rule-read.ts';
import { aclBindingRuleUpdateCommand } from './acl-binding-rule-update.ts';
import { aclBootstrapCommand } from './acl-bootstrap.ts';
import { aclPolicyCreateCommand } from './acl-policy-create.ts';
import { aclPolicyDeleteCommand } from './acl-policy-delete.ts';
import { aclPolicyListCommand } from './acl-policy-list.ts';
import { aclPolicyReadCommand } from './acl-policy-read.ts';
import { aclPolicyUpdateCommand } from './acl-policy-update.ts';
import { aclRoleCreateCommand } from './acl-role-create.ts';
import { aclRoleDeleteCommand } from './acl-role-delete.ts';
import { aclRoleListCommand } from './acl-role-list.ts';
import { aclRoleReadCommand } from './acl-role-read.ts';
import { aclRoleUpdateCommand } from './acl-role-update.ts';
import { aclSetAgentTokenCommand } from './acl-set-agent-token.ts';
import { aclTokenCloneCommand } from './acl-token-clone.ts';
import { aclTokenCreateCommand } from './acl-token-create.ts';
import { aclTokenDeleteCommand } from './acl-token-delete.ts';
import { aclTokenListCommand } from './acl-token-list.ts';
import { aclTokenReadCommand } from './acl-token-read.ts';
import { aclTokenUpdateCommand } from './acl-token-update.ts';
import { aclInitCommand } from './acl-init.ts';
import { aclExplainCommand } from './acl-explain.ts';
import { agentCommand } from './agent.ts';
import { catalogCommand } from './catalog.ts';
import { catalogDatacentersCommand } from './catalog-datacenters.ts';
import { catalogNodesCommand } from './catalog-nodes.ts';
import { catalogServicesCommand } from './catalog-services.ts';
import { configCommand } from './config.ts';
import { configDeleteCommand } from './config-delete.ts';
import { configListCommand } from './config-list.ts';
import { configReadCommand } from './config-read.ts';
import { configWriteCommand } from './config-write.ts';
import { eventCommand } from './event.ts';
import { forceLeaveCommand } from './force-leave.ts';
import { joinCommand } from './join.ts';
import { keygenCommand } from './keygen.ts';
import { keyringCommand } from './keyring.ts';
import { kvCommand } from './kv.ts';
import { kvDeleteCommand } from './kv-delete.ts';
import { kvExportCommand } from './kv-export.ts';
import { kvGetCommand } from './kv-get.ts';
import { kvImportCommand } from './kv-import.ts';
import { kvPutCommand } from './kv-put.ts';
import { loginCommand } from './login.ts';
import { logoutCommand } from './logout.ts';
import { maintCommand } from './maint.ts';
import { membersCommand } from './members.ts';
import { operatorCommand, operatorRaftCommand, operatorAutopilotCommand } from './operator.ts';
import { operatorRaftListPeersCommand } from './operator-raft-list-peers.ts';
import { operatorRaftRemovePeerCommand } from './operator-raft-remove-peer.ts';
import { operatorRaftTransferLeaderCommand } from './operator-raft-transfer-leader.ts';
import { operatorAutopilotGetConfigCommand } from './operator-autopilot-get-config.ts';
import { operatorAutopilotSetConfigCommand } from './operator-autopilot-set-config.ts';
import { operatorAutopilotStateCommand } from './operator-autopilot-state.ts';
import { servicesCommand } from './services.ts';
import { snapshotCommand } from './snapshot.ts';
import { snapshotAgentCommand } from './snapshot-agent.ts';
import { snapshotInspectCommand } from './snapshot-inspect.ts';
import { snapshotRestoreCommand } from './snapshot-restore.ts';
import { snapshotSaveCommand } from './snapshot-save.ts';
import { servicesDeregisterCommand } from './services-deregister.ts';
import { servicesRegisterCommand } from './services-register.ts';
import { lockCommand } from './lock.ts';
import { rttCommand } from './rtt.ts';
import { validateCommand } from './validate.ts';
import { versionCommand } from './version.ts';
import { watchCommand } from './watch.ts';

/** Every command, by full name. */
export const COMMANDS: readonly Command[] = [
  aclCommand,
  aclAuthMethodCommand,
  aclAuthMethodCreateCommand,
  aclAuthMethodDeleteCommand,
  aclAuthMethodListCommand,
  aclAuthMethodReadCommand,
  aclAuthMethodUpdateCommand,
  aclBindingRuleCommand,
  aclBindingRuleCreateCommand,
  aclBindingRuleDeleteCommand,
  aclBindingRuleListCommand,
  aclBindingRuleReadCommand,
  aclBindingRuleUpdateCommand,
  aclBootstrapCommand,
  aclExplainCommand,
  aclInitCommand,
  aclPolicyCommand,
  aclPolicyCreateCommand,
  aclPolicyDeleteCommand,
  aclPolicyListCommand,
  aclPolicyReadCommand,
  aclPolicyUpdateCommand,
  aclRoleCommand,
  aclRoleCreateCommand,
  aclRoleDeleteCommand,
  aclRoleListCommand,
  aclRoleReadCommand,
  aclRoleUpdateCommand,
  aclSetAgentTokenCommand,
  aclTokenCommand,
  aclTokenCloneCommand,
  aclTokenCreateCommand,
  aclTokenDeleteCommand,
  aclTokenListCommand,
  aclTokenReadCommand,
  aclTokenUpdateCommand,
  agentCommand,
  catalogCommand,
  catalogDatacentersCommand,
  catalogNodesCommand,
  catalogServicesCommand,
  configCommand,
  configDeleteCommand,
  configListCommand,
  configReadCommand,
  configWriteCommand,
  eventCommand,
  forceLeaveCommand,
  joinCommand,
  keygenCommand,
  keyringCommand,
  kvCommand,
  kvDeleteCommand,
  kvExportCommand,
  kvGetCommand,
  kvImportCommand,
  kvPutCommand,
  loginCommand,
  logoutCommand,
  maintCommand,
  membersCommand,
  operatorCommand,
  operatorRaftCommand,
  operatorRaftListPeersCommand,
  operatorRaftRemovePeerCommand,
  operatorRaftTransferLeaderCommand,
  operatorAutopilotCommand,
  operatorAutopilotGetConfigCommand,
  operatorAutopilotSetConfigCommand,
  operatorAutopilotStateCommand,
  servicesCommand,
  servicesDeregisterCommand,
  servicesRegisterCommand,
  snapshotCommand,
  snapshotAgentCommand,
  snapshotInspectCommand,
  snapshotRestoreCommand,
  snapshotSaveCommand,
  lockCommand,
  rttCommand,
  validateCommand,
  versionCommand,
  watchCommand,
];

const BY_NAME = new Map<string, Command>();
for (const c of COMMANDS) {
  if (BY_NAME.has(c.name)) throw new Error(`command registered twice: ${c.name}`);
  BY_NAME.set(c.name, c);
}

/** The immediate subcommands of `prefix` ('' for the top level). */
function children(prefix: string): Command[] {
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
  if (d.help && !d.command) {
    io.stderr(`${topUsage(children(''))}\n`);
    return 0;
  }
  const cmd = BY_NAME.get(d.command);
  if (!cmd) {
    io.stderr(`${topUsage(children(''))}\n`);
    return 127;
  }
  const help = commandHelp(cmd, children(cmd.name));
  if (d.help) {
    io.stderr(help);
    return 0;
  }
  if (d.topFlags.length) {
    io.stderr('Invalid flags before the subcommand. If these flags are for\nthe subcommand, please put them after the subcommand.\n\n' + help);
    return 1;
  }
  const code = await cmd.run(d.args, io);
  if (code === RUN_RESULT_HELP) {
    io.stderr(help);
    return 1;
  }
  return code;
}
