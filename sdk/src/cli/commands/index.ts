// Every `mecqkd` command, in the order `mecqkd --help` lists them. A new command: one file, one line.
import type { Command } from '../command.ts';
import { apps } from './apps.ts';
import { contextsCreate } from './contexts-create.ts';
import { contextsDelete } from './contexts-delete.ts';
import { contextsList } from './contexts-list.ts';
import { invoke } from './invoke.ts';
import { keyQuota } from './key-quota.ts';
import { status } from './status.ts';
import { trace } from './trace.ts';
import { watch } from './watch.ts';

export const COMMANDS: Command[] = [
  apps,
  contextsCreate,
  contextsList,
  contextsDelete,
  invoke,
  watch,
  status,
  trace,
  keyQuota,
];
