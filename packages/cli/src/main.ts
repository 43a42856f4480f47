/**
 * The `membus` command (bin/membus.mjs runs it). The help is printed before anything heavy
 * loads (zod schemas, the NATS client): `membus --help` costs a node start-up and little more.
 */
import { parseCommandLine, USAGE } from './command-line.ts';

/** `beforeCommands` runs once the command needs the workspace packages (e.g. a resolve hook). */
export async function main(beforeCommands: () => void = () => {}): Promise<void> {
  // `membus list | head`: the reader went away; that ends the output, not with a stack trace.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  // `membus mcp …` takes the MCP server's own flags (`membus mcp --help`), so it is dispatched
  // before the command line is parsed; the MCP package loads only then.
  if (process.argv[2] === 'mcp') {
    beforeCommands();
    const { main: mcp } = await import('@membus/mcp');
    await mcp(process.argv.slice(3), { program: 'membus mcp' });
    return;
  }
  // `membus import-from …` takes its own flags too (`membus import-from --help`).
  if (process.argv[2] === 'import-from') {
    beforeCommands();
    const { importFrom } = await import('./import-from.ts');
    await importFrom(process.argv.slice(3));
    return;
  }
  const { values, positionals } = parseCommandLine();
  if (values.help || positionals.length === 0) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  beforeCommands();
  const { run, reportFailure } = await import('./commands.ts');
  await run().catch(reportFailure);
}
