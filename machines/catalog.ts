/**
 * Every machine the product runs, with what a picture or a simulator needs to know besides its
 * definition: the event that starts it, its command table and the roles that may act on it.
 * `ccx diagrams` and the /machines page read this list, so a new machine shows up in both. Pure.
 */
import { cartCommands } from './cart.commands.ts';
import { cartMachine } from './cart.machine.ts';
import { connectionCommands } from './connection.commands.ts';
import { connectionMachine } from './connection.machine.ts';

export const machineCatalog = {
  connection: {
    machine: connectionMachine,
    startEvent: 'invite',
    commands: connectionCommands,
    /** Who may send commands: the parties. `system` stands for the workflow's own events (expiry). */
    roles: ['source', 'target'],
  },
  cart: {
    machine: cartMachine,
    startEvent: 'create',
    commands: cartCommands,
    roles: ['seller'],
  },
} as const;

export type MachineName = keyof typeof machineCatalog;
export const MACHINE_NAMES = Object.keys(machineCatalog) as MachineName[];
