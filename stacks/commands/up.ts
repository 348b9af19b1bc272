import { driverCommand } from "../driver/fleet-command";

export const command = driverCommand("up", "Converges the fleet, cell by cell");
