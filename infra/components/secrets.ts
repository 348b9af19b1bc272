import * as pulumi from "@pulumi/pulumi";

/** The stack's secret config, read once and handed to the components. */
export interface FleetSecrets {
  sshPrivateKey: pulumi.Output<string>;
  dnsTsigSecret: pulumi.Output<string>;
  /** Present when a wildcard certificate is configured. */
  tlsPrivateKey?: pulumi.Output<string>;
}

export function readFleetSecrets(config: pulumi.Config, tls: boolean): FleetSecrets {
  return {
    sshPrivateKey: config.requireSecret("sshPrivateKey"),
    dnsTsigSecret: config.requireSecret("dnsTsigSecret"),
    tlsPrivateKey: tls ? config.requireSecret("tlsPrivateKey") : undefined,
  };
}
