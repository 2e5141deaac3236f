/**
 * Temporal updates derived from a machine's command table (machines/commands.ts): one update per
 * command, named after it. Client-safe, like every message definition.
 */
import type { UpdateDefinition } from '@temporalio/common';
import { defineUpdate } from '@temporalio/workflow';
import { commandNames, type CommandFields, type CommandTable } from '../machines/commands.ts';

/** The update of each command of a table: named after the command, args = ids + the command's fields. */
export type CommandUpdates<T extends CommandTable, Id extends object, View> = {
  [K in keyof T & string]: UpdateDefinition<View, [Id & { actor: string } & CommandFields<T[K]>], K>;
};

export function commandUpdates<T extends CommandTable, Id extends object, View>(table: T): CommandUpdates<T, Id, View> {
  return Object.fromEntries(commandNames(table).map((name) => [name, defineUpdate(name)])) as CommandUpdates<T, Id, View>;
}

