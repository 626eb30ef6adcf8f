// `matchlog replica`: a second node that follows a primary's log over the
// replication endpoint, serves market data on its own gateway (read-only:
// order entry answers "not primary" with the primary's address), and takes
// over order entry when promoted (`matchlog promote`, POST /admin/promote,
// or the etcd coordinator).

import { runNode } from './start.js';

const USAGE = `usage: matchlog replica --data DIR --primary HOST:PORT [--listen HOST:PORT] [--replication-secret-file F]
                       [--replication HOST:PORT [--ack local|quorum] [--quorum K]] [--coordinator etcd://HOST:PORT]

  --data DIR           this replica's data directory (its own copy of the log; empty for a new replica)
  --primary HOST:PORT  the primary's replication endpoint (its --replication)
  --listen HOST:PORT   this node's gateway: market data while a replica, order entry once promoted
                       (default 127.0.0.1:7440; port 0: any free port)
  --replication-secret-file F   the shared secret the primary expects
  --replication HOST:PORT   once promoted: the endpoint other replicas follow
  --ack, --quorum      once promoted: the acknowledgement mode (default local)
  --coordinator etcd://HOST:PORT   automatic failover: when the leader's lease lapses, the most
                       caught-up replica takes the leader key and is promoted
  --lease SECONDS, --node NAME, --accounts FILE, --config FILE, --tls-cert/--tls-key,
  --cancel-on-disconnect, --reset-on-disconnect, --repair: as for \`matchlog start\`

Promote by hand: matchlog promote --data DIR (on this machine).
`;

export function run(argv: string[]): Promise<number> {
  return runNode('replica', USAGE, argv);
}
