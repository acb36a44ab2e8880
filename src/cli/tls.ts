// `proconsul tls`, `tls ca` and `tls cert`: the parents of the agent TLS helpers; on their own
// they print their help (exit 1), as Consul's do.
import { RUN_RESULT_HELP, type Command } from './io.ts';

/** The `tls` command. */
export const tlsCommand: Command = {
  name: 'tls',
  synopsis: 'Builtin helpers for creating CAs and certificates',
  flags: [],
  help: `
Usage: proconsul tls <subcommand> <subcommand> [options]

  This command has subcommands for interacting with Consul TLS.

  Here are some simple examples, and more detailed examples are available
  in the subcommands or the documentation.

  Create a CA

    $ proconsul tls ca create

  Create a server certificate

    $ proconsul tls cert create -server

  Create a client certificate

    $ proconsul tls cert create -client

  For more examples, ask for subcommand help or view the documentation.
`,
  async run() {
    return RUN_RESULT_HELP;
  },
};

/** The `tls ca` command. */
export const tlsCaCommand: Command = {
  name: 'tls ca',
  synopsis: 'Helpers for CAs',
  flags: [],
  help: `
Usage: proconsul tls ca <subcommand> [options] filename-prefix

  This command has subcommands for interacting with Certificate Authorities.

  Here are some simple examples, and more detailed examples are available
  in the subcommands or the documentation.

  Create a CA

    $ proconsul tls ca create
    ==> saved consul-agent-ca.pem
    ==> saved consul-agent-ca-key.pem

  For more examples, ask for subcommand help or view the documentation.
`,
  async run() {
    return RUN_RESULT_HELP;
  },
};

/** The `tls cert` command. */
export const tlsCertCommand: Command = {
  name: 'tls cert',
  synopsis: 'Helpers for certificates',
  flags: [],
  help: `
Usage: proconsul tls cert <subcommand> [options]

  This command has subcommands for interacting with certificates

  Here are some simple examples, and more detailed examples are available
  in the subcommands or the documentation.

  Create a certificate

    $ proconsul tls cert create -server
    ==> saved dc1-server-consul.pem
    ==> saved dc1-server-consul-key.pem

  Create a certificate with your own CA:

    $ proconsul tls cert create -server -ca my-ca.pem -key my-ca-key.pem
    ==> saved dc1-server-consul.pem
    ==> saved dc1-server-consul-key.pem

  For more examples, ask for subcommand help or view the documentation.
`,
  async run() {
    return RUN_RESULT_HELP;
  },
};
