// Entry point when the CLI runs the project directly (`pulumi up` with the
// Node.js language host). The fleet driver runs the same program inline; a
// cell stack names its hypervisors and its input files in its config
// (`moodle-fleet:cell`, `moodle-fleet:inputs`), so a plain
// `pulumi preview -s prod-hv01` declares exactly what the driver does.
import { fleetProgram } from "./program";

export = fleetProgram({})();
