/**
 * The MCP server: tools/list and tools/call over one tenant's `MemoryClient`.
 *
 * Built on the SDK's protocol-level `Server` rather than `McpServer`: McpServer renders each
 * tool's zod schema to JSON Schema itself and throws on the contract's custom schemas (metadata,
 * metadata filters, outcome config), which carry their JSON shape as metadata that only
 * `operationJsonSchemas()` reads. So tools/list publishes the contract's JSON Schema, and
 * tools/call validates with the contract's zod fields.
 */
import { validate } from '@membus/bus';
import type { MemoryClient } from '@membus/client';
import { MembusError } from '@membus/contracts';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { type MembusTool, toolInputSchema } from './tool.ts';
import { tools } from './tools.ts';

/** The server's name and version in the MCP handshake. */
export const SERVER_INFO = { name: 'membus', version: '0.1.0' } as const;

const INSTRUCTIONS =
  'Long-term memory shared by agents (membus). Before acting, search_memory for what is ' +
  'known (preferences, past outcomes, facts); after learning something worth keeping, ' +
  'save_to_memory. For repeated tasks, record_outcome after each run and ask best_workflow ' +
  'before the next one.';

let listed: Tool[] | undefined;

/** The tools as tools/list lists them (made once: HTTP makes a server per request). */
export function listedTools(): Tool[] {
  listed ??= tools.map((tool) => ({
    name: tool.name,
    title: tool.title,
    description: tool.description,
    inputSchema: toolInputSchema(tool),
    annotations: { title: tool.title, ...tool.annotations },
  }));
  return listed;
}

/**
 * A membus error as a tool result the model can read and act on (not a protocol error): the
 * code, the message, and whether trying again may help.
 */
export function errorResult(error: unknown): CallToolResult {
  const membusError = MembusError.from(error);
  const body = membusError.toJSON();
  const advice = body.retryable
    ? 'retryable: the same call may succeed later'
    : 'not retryable: change the arguments';
  const details = body.details ? `\ndetails: ${JSON.stringify(body.details)}` : '';
  return {
    isError: true,
    content: [{ type: 'text', text: `${body.code}: ${body.message} (${advice})${details}` }],
    structuredContent: { error: body },
  };
}

/** Validates the arguments and runs one tool; every failure is an `isError` result. */
export async function callTool(
  client: MemoryClient,
  tool: MembusTool,
  args: unknown,
): Promise<CallToolResult> {
  const checked = validate(tool.input, args ?? {});
  if (!checked.ok) return errorResult(checked.error);
  try {
    const output = await tool.run(client, checked.value);
    return {
      content: [{ type: 'text', text: output.text }],
      structuredContent: output.structured,
    };
  } catch (error) {
    return errorResult(error);
  }
}

const toolsByName = new Map(tools.map((tool) => [tool.name, tool]));

/**
 * An MCP server whose every tool goes through `client` (one tenant's connection). The caller
 * connects it to a transport and closes it; the client outlives it (HTTP makes one per request).
 */
export function createMcpServer(client: MemoryClient): Server {
  const server = new Server(SERVER_INFO, {
    capabilities: { tools: {} },
    instructions: INSTRUCTIONS,
  });
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: listedTools() }));
  server.setRequestHandler(CallToolRequestSchema, (request) => {
    const tool = toolsByName.get(request.params.name);
    if (!tool) throw new McpError(ErrorCode.InvalidParams, `no tool "${request.params.name}"`);
    return callTool(client, tool, request.params.arguments);
  });
  return server;
}
