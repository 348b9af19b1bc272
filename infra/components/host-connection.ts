import * as pulumi from "@pulumi/pulumi";
import type * as command from "@pulumi/command";
import type { FleetSettings, PlannedHost } from "../plan";

/**
 * The host key to pin for a host, by precedence:
 * 1. the key configured in `ssh.pinnedHostKeys` (a VM created before the
 *    program generated host keys keeps the key it made itself at first boot;
 *    an operator records it there, and a key replaced by hand goes there too);
 * 2. the key the VM's seed gave it (every VM created since);
 * 3. none: such a VM's key is not checked (as before host keys were
 *    generated), and each run warns until it is pinned.
 */
export function hostKeyPin(configured: string | undefined, fromSeed: string | undefined): string | undefined {
  return configured ?? fromSeed;
}

/** What an operator reads when a host's key is not checked. */
export function unpinnedHostMessage(host: PlannedHost): string {
  return [
    `host ${host.name} (${host.address}) was created before the program generated SSH host keys, and no key is pinned for it:`,
    `its host key is not checked. Read the key on the VM's console or from a trusted shell on it`,
    `(cat /etc/ssh/ssh_host_ed25519_key.pub) and set moodle-fleet:ssh.pinnedHostKeys["${host.name}"] in the stack config.`,
  ].join(" ");
}

export interface HostConnectionArgs {
  plan: PlannedHost;
  settings: FleetSettings;
  /** The key the VM's seed gave it (HostVm.hostKey); undefined for a VM created before. */
  seededHostKey: pulumi.Output<string | undefined>;
  /** Warnings about an unchecked host key are attached to it. */
  parent: pulumi.Resource;
}

/**
 * How every remote command reaches a host: its address, the fleet's SSH
 * user, and the host key it must present (see hostKeyPin). A connection of a
 * VM created before keys were generated, with nothing pinned, has no
 * `hostKey`.
 *
 * The fleet's private key is not part of it: the command provider signs
 * with the ssh-agent in SSH_AUTH_SOCK when a connection names no key, and
 * the fleet driver runs every `up`, `refresh` and `destroy` with an agent of
 * its own holding that key (stacks/ssh/agent.ts). A key in the connection
 * would be stored, encrypted, in every remote command's state twice (inputs
 * and outputs): most of a site's state, and a copy of the fleet's key in
 * every backup.
 */
export function hostConnection(args: HostConnectionArgs): command.types.input.remote.ConnectionArgs {
  const { plan, settings, seededHostKey, parent } = args;
  const configured = settings.ssh.pinnedHostKeys?.[plan.name];
  const hostKey = seededHostKey.apply((fromSeed) => {
    const pin = hostKeyPin(configured, fromSeed);
    if (pin === undefined) pulumi.log.warn(unpinnedHostMessage(plan), parent);
    else if (fromSeed !== undefined && pin !== fromSeed)
      pulumi.log.warn(`host ${plan.name}: the key pinned in ssh.pinnedHostKeys is not the one its seed gave it; connections fail unless the VM's key was replaced on purpose`, parent);
    return pin;
  });
  return {
    host: plan.address,
    user: settings.ssh.user,
    // A known undefined leaves the key out of the connection altogether.
    hostKey: hostKey as pulumi.Output<string>,
    // ssh.dialErrorLimit in the config says why the default is patient.
    dialErrorLimit: settings.ssh.dialErrorLimit,
    perDialTimeout: settings.ssh.perDialTimeout,
  };
}
