import { Command, CommanderError } from 'commander';
import { CliError } from './errors.ts';
import { sundownVersion } from './version.ts';

// Lambda runs Node.js 22; the CLI also runs on 20 (package.json engines), where every AWS SDK client
// would print the SDK's six-line Node.js version warning. The SDK reads this variable (set before any
// command module loads a client); an operator who sets it to anything else still sees the warning.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

type Register = (program: Command) => void;

/**
 * Command modules by the top-level command names they define. Only the module
 * for the command being run is imported (each pulls in AWS SDK clients, which
 * take a while to load); `--help` and unknown commands load them all.
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  local: async () => (await import('./commands/local.ts')).registerLocal,
  end: async () => (await import('./commands/end.ts')).registerEnd,
  revoke: async () => (await import('./commands/end.ts')).registerEnd,
  issue: async () => (await import('./commands/issue.ts')).registerIssue,
  register: async () => (await import('./commands/credentials.ts')).registerCredentialCommands,
  credentials: async () => (await import('./commands/credentials.ts')).registerCredentialCommands,
  audit: async () => (await import('./commands/audit.ts')).registerAudit,
  sweep: async () => (await import('./commands/sweep.ts')).registerSweep,
  status: async () => (await import('./commands/status.ts')).registerStatus,
  dlq: async () => (await import('./commands/dlq.ts')).registerDlq,
  preflight: async () => (await import('./commands/preflight.ts')).registerPreflight,
  drill: async () => (await import('./commands/drill.ts')).registerDrill,
};

const program = new Command()
  .name('sundown')
  .description('Revoke every credential an ephemeral workload held, the moment that workload ends.')
  .version(sundownVersion(), '-V, --version', 'print the version')
  .showHelpAfterError()
  .exitOverride();

try {
  const requested = process.argv[2];
  const version = requested === '--version' || requested === '-V';
  const loaders = version
    ? []
    : requested && requested in COMMANDS
      ? [COMMANDS[requested]]
      : Object.values(COMMANDS);
  const registered = new Set<Register>();
  for (const load of loaders) {
    const register = await (load as () => Promise<Register>)();
    if (registered.has(register)) continue; // end/revoke and register/credentials share a module
    registered.add(register);
    register(program);
  }
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
