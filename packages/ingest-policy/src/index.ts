export type {
  CompiledPolicy,
  CompiledRule,
  PolicySubject,
} from './compile.ts';
export { compilePolicy, MAX_POLICY_PROGRAM_SIZE, MAX_PROGRAM_SIZE } from './compile.ts';
export type { PolicyDecision } from './evaluate.ts';
export { evaluatePolicy } from './evaluate.ts';
