/**
 * Runs a real `dualrun` command in this process, exactly as the CLI would (same
 * parser, same actions), capturing what it prints on stdout. The demo is told as
 * the sequence of commands a user would type, and runs those commands.
 */
import { CommanderError } from 'commander';

export interface StepResult { args: string[]; code: number; stdout: string }

export async function runCliStep(args: string[], configPath: string): Promise<StepResult> {
  const { buildProgram } = await import('../cli.ts');
  const program = buildProgram();
  const chunks: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => { chunks.push(String(chunk)); return true; }) as typeof process.stdout.write;
  process.exitCode = undefined;
  let code = 0;
  try {
    await program.parseAsync(['node', 'dualrun', '--config', configPath, '--log-level', process.env.DUALRUN_LOG_LEVEL ?? 'warn', ...args]);
    code = typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    code = 2;
  } finally {
    process.stdout.write = write;
    process.exitCode = undefined;
  }
  return { args, code, stdout: chunks.join('') };
}
