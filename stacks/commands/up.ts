import { driverCommand } from "../driver/fleet-command";

export const command = driverCommand("up", "converge the fleet, cell by cell (one stack per hypervisor)");
