export type { McpConfig } from './config.ts';
export { loadMcpConfig, mcpEnvSpec, usage } from './config.ts';
export type { HttpMcpServer, HttpOptions } from './http.ts';
export { isLoopback, MCP_PATH, startHttpServer } from './http.ts';
export { main } from './main.ts';
export { callTool, createMcpServer, errorResult, listedTools, SERVER_INFO } from './server.ts';
export type { MembusTool, ToolHints, ToolInputSchema, ToolOutput } from './tool.ts';
export { contractInputJsonSchema, toolInputSchema } from './tool.ts';
export { tools } from './tools.ts';
