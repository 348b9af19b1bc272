// Entry point when the CLI runs the project directly (`pulumi up` with the
// Node.js language host). The fleet driver runs the same program inline.
import * as pulumi from "@pulumi/pulumi";
import { fleetProgram, DEFAULT_INPUTS, CONFIG_NAMESPACE } from "./program";

// A cell stack (`<env>-<hypervisor>`) names its hypervisors in config, so a
// plain `pulumi preview -s prod-hv01` declares exactly what the driver does.
const cell = new pulumi.Config(CONFIG_NAMESPACE).getObject<string[]>("cell");
export = fleetProgram({ ...DEFAULT_INPUTS, cell })();
