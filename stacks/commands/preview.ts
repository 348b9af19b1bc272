import { driverCommand } from "../driver/fleet-command";

export const command = driverCommand("preview", "Shows what would change, per cell");
