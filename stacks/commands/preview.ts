import { driverCommand } from "../driver/fleet-command";

export const command = driverCommand("preview", "show what would change, per cell");
