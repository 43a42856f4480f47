/** The tools an MCP client lists, in order: the three of seed 001 first. */
export const toolNames = [
  'search_memory',
  'save_to_memory',
  'get_memory_stats',
  'list_memories',
  'delete_memory',
  'memory_history',
  'record_outcome',
  'best_workflow',
];
