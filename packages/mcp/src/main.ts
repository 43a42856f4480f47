/**
 * `membus-mcp` (and `membus mcp`): config, one tenant's client, the transport, and a clean stop
 * (SIGTERM, SIGINT, or the MCP client closing stdin). Logs go to stderr: on stdio, stdout is
 * the protocol's.
 */
import { ConfigError } from '@membus/bus';
import { connect, type MemoryClient } from '@membus/client';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { credentialsOf, loadMcpConfig, type McpConfig, usage } from './config.ts';
import { startHttpServer } from './http.ts';
import { createMcpServer } from './server.ts';

function log(program: string, line: string): void {
  process.stderr.write(`${program}: ${line}\n`);
}

/** Runs until stopped; `argv` are the arguments after the program name. */
export async function main(
  argv: readonly string[] = process.argv.slice(2),
  options: { program?: string } = {},
): Promise<void> {
  const program = options.program ?? 'membus-mcp';
  let config: McpConfig;
  try {
    const loaded = loadMcpConfig(argv, process.env);
    if (loaded.help) {
      process.stdout.write(`${usage(program)}\n`);
      return;
    }
    config = loaded.config;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    log(program, `${error.message}\n\n${usage(program)}`);
    process.exitCode = 1;
    return;
  }

  let client: MemoryClient;
  try {
    client = await connect({
      servers: config.natsUrl,
      tenant: config.tenant,
      name: `membus-mcp-${config.tenant}`,
      ...credentialsOf(config),
    });
  } catch (error) {
    log(program, `cannot connect to NATS at ${config.natsUrl}: ${(error as Error).message}`);
    process.exitCode = 1;
    return;
  }

  let stopTransport: () => Promise<void>;
  if (config.transport === 'stdio') {
    const server = createMcpServer(client);
    await server.connect(new StdioServerTransport());
    stopTransport = () => server.close();
    log(program, `tenant "${config.tenant}" on stdio`);
  } else {
    let http: Awaited<ReturnType<typeof startHttpServer>>;
    try {
      http = await startHttpServer(client, {
        host: config.host,
        port: config.port,
        ...(config.token ? { token: config.token } : {}),
        ...(config.allowedHosts ? { allowedHosts: config.allowedHosts } : {}),
        ...(config.allowedOrigins ? { allowedOrigins: config.allowedOrigins } : {}),
        onError: (error) => log(program, `request failed: ${error.message}`),
      });
    } catch (error) {
      await client.close();
      log(program, (error as Error).message);
      process.exitCode = 1;
      return;
    }
    stopTransport = () => http.close();
    log(program, `tenant "${config.tenant}" at ${http.url}`);
  }

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      stopTransport()
        .then(() => client.close())
        .finally(resolve);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    // The MCP client that started us over stdio went away.
    if (config.transport === 'stdio') process.stdin.once('end', stop);
  });
}
