import { Command, CommanderError } from 'commander';
import { registerAudit } from './commands/audit.ts';
import { registerCredentialCommands } from './commands/credentials.ts';
import { registerEnd } from './commands/end.ts';
import { registerIssue } from './commands/issue.ts';
import { registerLocal } from './commands/local.ts';
import { CliError } from './errors.ts';

const program = new Command()
  .name('sundown')
  .description('Revoke every credential an ephemeral workload held, the moment that workload ends.')
  .showHelpAfterError()
  .exitOverride();

registerLocal(program);
registerEnd(program);
registerIssue(program);
registerCredentialCommands(program);
registerAudit(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else {
    const message = err instanceof CliError || err instanceof Error ? err.message : String(err);
    process.stderr.write(`sundown: ${message.split('\n')[0]}\n`);
    process.exitCode = err instanceof CliError ? err.exitCode : 1;
  }
}
