import type { Command } from 'commander';
import { Option } from 'commander';
import path from 'node:path';
import { ANALYSES, ANALYSIS_KINDS, analysisCsv, analysisTables, type AnalysisKind, type AnalysisRequest } from '../../shared/analyses';
import { BACKEND_ORDER, type BackendName } from '../../shared/backend';
import { writeFileAtomicSync } from '../../core/io/atomicWrite';
import { createAnalysisClient } from '../../core/jobs/analysisClient';
import { argsFromFlags, flagsOf } from '../zodFlags';

function fail(err: unknown): never {
  process.stderr.write(`oocr: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}

/**
 * `oocr analyze KIND`: one subcommand per entry of the analysis registry (src/shared/analyses), whose
 * flags are that entry's arguments. It runs in the analysis worker exactly as the API's `analyze`
 * does, and writes the same JSON (or one of the kind's CSV tables).
 */
export function registerAnalyzeCommand(program: Command): void {
  const analyze = program
    .command('analyze')
    .description('run an interpretability analysis on a run and write its JSON (the API’s `analyze` result) or a CSV table')
    .argument('[kind]', ANALYSIS_KINDS.join('|'))
    .allowUnknownOption()
    .allowExcessArguments()
    .action((kind?: string) => {
      if (kind) fail(`unknown analysis '${kind}': expected one of ${ANALYSIS_KINDS.join(', ')}`);
      analyze.help();
    });
  for (const kind of ANALYSIS_KINDS) registerKind(analyze, kind);
}

function registerKind(analyze: Command, kind: AnalysisKind): void {
  const spec = ANALYSES[kind];
  const flags = flagsOf(spec.args);
  const tables = analysisTables(kind).map(([name, t]) => `${name} (${t.description})`);
  const cmd = analyze.command(kind).description(spec.summary).requiredOption('--run <dir>', 'run folder');
  for (const f of flags) cmd.addOption(f.option);
  cmd
    .addOption(new Option('--format <f>', 'output format').choices(['json', 'csv']).default('json'))
    .option('--table <name>', `CSV table: ${tables.join('; ')} (default: the first)`)
    .addOption(new Option('--backend <name>', 'force a compute backend').choices([...BACKEND_ORDER]))
    .requiredOption('--out <file>', 'output file')
    .action(async (o: Record<string, unknown> & { run: string; format: 'json' | 'csv'; table?: string; out: string; backend?: BackendName }) => {
      const client = createAnalysisClient({ backend: o.backend });
      try {
        if (o.table !== undefined && o.format !== 'csv') throw new Error('--table applies to --format csv');
        // The run as named on the command line is the result's `id`, as the workspace-relative id is in the API.
        const id = o.run.replace(/[/\\]+$/, '') || o.run;
        const req = { kind, id, ...argsFromFlags(flags, spec.args, o) } as AnalysisRequest;
        const result = await client.run({ dir: path.resolve(o.run), req });
        writeFileAtomicSync(o.out, o.format === 'csv' ? analysisCsv(result, o.table) : `${JSON.stringify(result)}\n`);
        process.stderr.write(`oocr: wrote ${kind} to ${o.out}\n`);
      } catch (err) {
        fail(err);
      } finally {
        client.dispose();
      }
    });
}
