import type { Command } from 'commander';
import { Option } from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import { ANALYSES, ANALYSIS_KINDS, analysisCsv, analysisTables, type AnalysisKind, type AnalysisRequest } from '../../shared/analyses';
import { BACKEND_ORDER, type BackendName } from '../../shared/backend';
import { writeFileAtomicSync } from '../../core/io/atomicWrite';
import { createAnalysisClient } from '../../core/jobs/analysisClient';
import { createLoadReporter } from '../progressBar';
import { argsFromFlags, flagsOf } from '../zodFlags';
import { fail } from '../fail';

/**
 * `oocr analyze KIND`: one subcommand per entry of the analysis registry (src/shared/analyses), whose
 * flags are that entry's arguments. It runs in the analysis worker exactly as the API's `analyze`
 * does, and writes the same JSON (or one of the kind's CSV tables).
 */
export function registerAnalyzeCommand(program: Command): void {
  const analyze = program
    .command('analyze')
    .description('run an interpretability analysis on a run or a Hugging Face model folder and write its JSON (the API’s `analyze` result) or a CSV table')
    .argument('[kind]', ANALYSIS_KINDS.join('|'))
    .allowUnknownOption()
    .allowExcessArguments()
    .action((kind?: string) => {
      if (kind) fail(`unknown analysis '${kind}': expected one of ${ANALYSIS_KINDS.join(', ')}`);
      analyze.help();
    });
  for (const kind of ANALYSIS_KINDS) registerKind(analyze, kind);
}

/**
 * --texts-file: JSONL lines of {"text", "label"} (or JSON strings), or plain lines of text; blank lines
 * are skipped. Gives the projection's `texts` and, when any line has a label, `labels`.
 */
export function readTextsFile(file: string): { texts: string[]; labels?: string[] } {
  const lines = fs
    .readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '');
  const texts: string[] = [];
  const labels: (string | undefined)[] = [];
  lines.forEach((line, i) => {
    const t = line.trim();
    if (t.startsWith('{') || t.startsWith('"')) {
      let v: unknown;
      try {
        v = JSON.parse(t);
      } catch (err) {
        throw new Error(`${file}:${i + 1}: not valid JSON (${(err as Error).message})`);
      }
      if (typeof v === 'string') texts.push(v);
      else if (v && typeof v === 'object' && typeof (v as { text?: unknown }).text === 'string') {
        texts.push((v as { text: string }).text);
        const label = (v as { label?: unknown }).label;
        labels[texts.length - 1] = label === undefined ? undefined : String(label);
      } else throw new Error(`${file}:${i + 1}: expected {"text": "...", "label": "..."} or a JSON string`);
    } else texts.push(line);
  });
  if (!texts.length) throw new Error(`${file}: no texts`);
  const anyLabel = labels.some((l) => l !== undefined);
  return anyLabel ? { texts, labels: texts.map((_, i) => labels[i] ?? 'text') } : { texts };
}

function registerKind(analyze: Command, kind: AnalysisKind): void {
  const spec = ANALYSES[kind];
  const flags = flagsOf(spec.args);
  const tables = analysisTables(kind).map(([name, t]) => `${name} (${t.description})`);
  const cmd = analyze
    .command(kind)
    .description(spec.summary)
    .option('--run <dir>', 'run folder (run.json)')
    .option('--model <dir>', 'Hugging Face model folder (config.json, *.safetensors, tokenizer.json), instead of --run')
    .option('--adapter <dir>', 'PEFT LoRA adapter folder applied to --model (adapter_config.json, adapter_model.safetensors)');
  const hasPrompt = 'prompt' in spec.args.shape;
  if (hasPrompt) cmd.option('--text <text>', 'the prompt as text, for --model (the same as --prompt)');
  if ('texts' in spec.args.shape) cmd.option('--texts-file <file>', `texts${kind === 'projection' ? ' to project' : ''}: JSONL of {"text"${'labels' in spec.args.shape ? ', "label"' : ''}} (or JSON strings), or one text per line`);
  for (const f of flags) cmd.addOption(f.option);
  cmd
    .addOption(new Option('--format <f>', 'output format').choices(['json', 'csv']).default('json'))
    .option('--table <name>', `CSV table: ${tables.join('; ')} (default: the first)`)
    .addOption(new Option('--backend <name>', 'force a compute backend').choices([...BACKEND_ORDER]))
    .requiredOption('--out <file>', 'output file')
    .addHelpText('after', `\nExamples:\n  npx oocr analyze ${kind} --run runs/world-base --out out.json\n  npx oocr analyze ${kind} --model models/gpt2${hasPrompt ? ' --text "The Eiffel Tower is in"' : ''} --out out.json`)
    .action(async (o: Record<string, unknown> & { run?: string; model?: string; adapter?: string; text?: string; textsFile?: string; format: 'json' | 'csv'; table?: string; out: string; backend?: BackendName }) => {
      let client: ReturnType<typeof createAnalysisClient> | null = null;
      let loadBar: ReturnType<typeof createLoadReporter> | null = null;
      try {
        if (o.table !== undefined && o.format !== 'csv') throw new Error('--table applies to --format csv');
        if ((o.run === undefined) === (o.model === undefined)) throw new Error('give exactly one of --run DIR and --model DIR');
        if (o.adapter !== undefined && o.model === undefined) throw new Error('--adapter applies to --model');
        if (o.text !== undefined && o.prompt !== undefined) throw new Error('give the prompt once: --text or --prompt');
        const args = argsFromFlags(flags, spec.args, o.text !== undefined ? { ...o, prompt: o.text } : o);
        if (o.textsFile !== undefined) {
          if (args.texts !== undefined || args.labels !== undefined) throw new Error('give texts once: --texts-file, or --texts (and --labels)');
          const read = readTextsFile(o.textsFile);
          Object.assign(args, 'labels' in spec.args.shape ? read : { texts: read.texts });
        }
        // The folder as named on the command line is the result's `id` (and `adapter`), as the
        // workspace-relative ids are in the API.
        const named = (d: string): string => d.replace(/[/\\]+$/, '') || d;
        const dir = (o.run ?? o.model) as string;
        const req = { kind, id: named(dir), ...(o.adapter !== undefined ? { adapter: named(o.adapter) } : {}), ...args } as AnalysisRequest;
        client = createAnalysisClient({ backend: o.backend, workers: 1, timeoutMs: Infinity });
        // A big model folder reports its loading (the worker's threshold, OOCR_MODEL_PROGRESS_MB).
        const bar = (loadBar = createLoadReporter(req.id));
        const result = await client.run({
          dir: path.resolve(dir),
          adapterDir: o.adapter === undefined ? undefined : path.resolve(o.adapter),
          req,
          onProgress: (p) => {
            bar.update(p);
            if (p.bytesRead >= p.totalBytes) bar.stop();
          },
        });
        bar.stop();
        writeFileAtomicSync(o.out, o.format === 'csv' ? analysisCsv(result, o.table) : `${JSON.stringify(result)}\n`);
        process.stderr.write(`oocr: wrote ${kind} to ${o.out}\n`);
      } catch (err) {
        loadBar?.stop();
        fail(err);
      } finally {
        client?.dispose();
      }
    });
}
