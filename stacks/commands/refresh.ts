import { driverCommand } from "../driver/fleet-command";

export const command = driverCommand("refresh", "read the real state of every cell into its stack");
