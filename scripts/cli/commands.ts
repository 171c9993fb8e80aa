import type { Command } from 'commander';
import { defineExport } from './export';
import { defineGenerate } from './generate';
import { defineIngest } from './ingest';
import { defineJobs } from './loadJobs';
import { defineLedger } from './ledger';
import { defineQuarantine } from './quarantine';
import { defineRebuild } from './rebuild';
import { defineReconcile } from './reconcile';
import { defineReport } from './report';
import { defineSchedule } from './schedule';
import { defineStack } from './stack';
import { defineStream } from './stream';
import { defineVerify } from './verify';
import { defineWait } from './wait';

/**
 * Every command, in the order `trackflow --help` lists them. Each declares its arguments and options once;
 * the client libraries load only inside the command that runs, so help and usage errors stay fast.
 */
export function defineCommands(program: Command): void {
  for (const define of [
    defineStack, defineGenerate, defineJobs, defineExport, defineSchedule, defineIngest, defineStream,
    defineReconcile, defineReport, defineWait, defineQuarantine, defineLedger, defineVerify, defineRebuild,
  ]) define(program);
}
