import { driverCommand } from "../driver/fleet-command";

export const command = driverCommand("refresh", "Reads the real state of every cell");
