// `proconsul acl`, `acl policy`, `acl role`, `acl token`, `acl auth-method` and
// `acl binding-rule`: parents of the ACL subcommands; on their own they print their help (exit 1).
import { RUN_RESULT_HELP, type Command } from './io.ts';

function parent(name: string, synopsis: string, help: string): Command {
  return { name, synopsis, flags: [], help, run: async () => RUN_RESULT_HELP };
}

/** The `acl` command. */
export const aclCommand: Command = parent('acl', 'Interact with Consul\'s ACLs', `
Usage: proconsul acl <subcommand> [options] [args]

  This command has subcommands for interacting with Consul's ACLs.
  Here are some simple examples, and more detailed examples are available
  in the subcommands or the documentation.

  Bootstrap ACLs:

      $ proconsul acl bootstrap

  List all ACL tokens:

      $ proconsul acl token list

  Create a new ACL policy:

      $ proconsul acl policy create -name "new-policy" \\
                                    -description "This is an example policy" \\
                                    -datacenter "dc1" \\
                                    -datacenter "dc2" \\
                                    -rules @rules.hcl

  Set the default agent token:

      $ proconsul acl set-agent-token default 0bc6bc46-f25e-4262-b2d9-ffbe1d96be6f

  For more examples, ask for subcommand help or view the documentation.
`);

/** The `acl policy` command. */
export const aclPolicyCommand: Command = parent('acl policy', 'Manage Consul\'s ACL policies', `
Usage: proconsul acl policy <subcommand> [options] [args]

  This command has subcommands for managing Consul's ACL policies.

  Create a new policy:

      $ proconsul acl policy create -name "new-policy" -rules @rules.hcl

  List all policies:

      $ proconsul acl policy list

  For more examples, ask for subcommand help or view the documentation.
`);

/** The `acl role` command. */
export const aclRoleCommand: Command = parent('acl role', 'Manage Consul\'s ACL roles', `
Usage: proconsul acl role <subcommand> [options] [args]

  This command has subcommands for managing Consul's ACL roles.

  Create a new role:

      $ proconsul acl role create -name "new-role" -policy-name "policy"

  List all roles:

      $ proconsul acl role list

  For more examples, ask for subcommand help or view the documentation.
`);

/** The `acl token` command. */
export const aclTokenCommand: Command = parent('acl token', 'Manage Consul\'s ACL tokens', `
Usage: proconsul acl token <subcommand> [options] [args]

  This command has subcommands for managing Consul's ACL tokens.

  Create a new token:

      $ proconsul acl token create -description "Replication token" -policy-name "acl-replication"

  List all tokens:

      $ proconsul acl token list

  For more examples, ask for subcommand help or view the documentation.
`);

/** The `acl auth-method` command. */
export const aclAuthMethodCommand: Command = parent('acl auth-method', 'Manage Consul\'s ACL auth methods', `
Usage: proconsul acl auth-method <subcommand> [options] [args]

  This command has subcommands for managing Consul's ACL auth methods.

  Create a new auth method:

      $ proconsul acl auth-method create -type "kubernetes" \\
                              -name "my-k8s" \\
                              -description "This is an example kube auth method" \\
                              -kubernetes-host "https://apiserver.example.com:8443" \\
                              -kubernetes-ca-cert @/path/to/kube.ca.crt \\
                              -kubernetes-service-account-jwt "JWT_CONTENTS"

  List all auth methods:

      $ proconsul acl auth-method list

  For more examples, ask for subcommand help or view the documentation.
`);

/** The `acl binding-rule` command. */
export const aclBindingRuleCommand: Command = parent('acl binding-rule', 'Manage Consul\'s ACL binding rules', `
Usage: proconsul acl binding-rule <subcommand> [options] [args]

  This command has subcommands for managing Consul's ACL binding rules.

  Create a new binding rule:

      $ proconsul acl binding-rule create \\
                 -method=minikube \\
                 -bind-type=service \\
                 -bind-name='k8s-\${serviceaccount.name}' \\
                 -selector='serviceaccount.namespace==default and serviceaccount.name==web'

  List all binding rules:

      $ proconsul acl binding-rule list

  For more examples, ask for subcommand help or view the documentation.
`);
